#include "health_centre/hc_export_slicer.hpp"

#include <algorithm>
#include <cstring>

namespace tsunagu::health_centre {
namespace {

constexpr std::string_view kCommentOpen = "--";
constexpr std::string_view kCdataOpen = "[CDATA[";
// Bytes already released are dropped from the buffer once there are this many of them.
constexpr std::size_t kCompactBytes = 65536;

bool is_name_letter(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

ExportSlicer::ExportSlicer(std::size_t max_document_bytes)
    : max_document_bytes_(max_document_bytes) {}

void ExportSlicer::feed(std::string_view bytes) {
  if (refusal_ || finished_ || bytes.empty()) return;
  buffer_.append(bytes);
  scan();
}

void ExportSlicer::finish() {
  if (finished_) return;
  finished_ = true;
  scan();  // a one-byte input has not been checked for UTF-16 yet
}

std::size_t ExportSlicer::releasable() const noexcept {
  std::uint64_t hold = scan_;
  // "<" or "<!…" not classified yet may begin a declaration: never let the parser see it.
  if (refusal_ || state_ == State::lt || state_ == State::bang) hold = tag_start_;
  // A document goes to the parser only once it is complete, so its size is known first.
  if (open_ && !current_.oversized) hold = std::min(hold, current_.start);
  if (finished_ && !refusal_) hold = scan_;
  return hold > released_ ? static_cast<std::size_t>(hold - released_) : 0;
}

std::size_t ExportSlicer::release(char* out, std::size_t capacity) {
  const std::size_t n = std::min(capacity, releasable());
  if (n == 0) return 0;
  std::memcpy(out, buffer_.data() + (released_ - base_), n);
  released_ += n;
  compact();
  return n;
}

std::optional<DocumentSlice> ExportSlicer::take(std::uint64_t ordinal) {
  while (!slices_.empty() && slices_.front().ordinal < ordinal) slices_.pop_front();
  if (slices_.empty() || slices_.front().ordinal != ordinal) return std::nullopt;
  DocumentSlice slice = std::move(slices_.front());
  slices_.pop_front();
  return slice;
}

std::uint64_t ExportSlicer::ordinal_at(std::uint64_t offset, std::uint64_t* line) const noexcept {
  for (const DocumentSlice& slice : slices_) {
    if (offset >= slice.start && (slice.oversized || offset < slice.end)) {
      if (line != nullptr) *line = slice.line;
      return slice.ordinal;
    }
  }
  if (open_ && offset >= current_.start) {
    if (line != nullptr) *line = current_.line;
    return current_.ordinal;
  }
  return 0;
}

void ExportSlicer::scan() {
  if (scan_ == 0 && !refusal_) {
    // A UTF-16 file has a NUL in its first two bytes or a UTF-16 byte order mark; byte-wise
    // scanning would misread it, and the export is UTF-8.
    if (buffer_.size() < 2 && !finished_) return;
    const auto byte = [&](std::size_t i) {
      return i < buffer_.size() ? static_cast<unsigned char>(buffer_[i]) : 1U;
    };
    if ((byte(0) == 0xFE && byte(1) == 0xFF) || (byte(0) == 0xFF && byte(1) == 0xFE) ||
        byte(0) == 0 || byte(1) == 0) {
      refusal_ = Refusal{"UTF-16", 1};
      return;
    }
  }
  // The loop runs on a local cursor and line count; step() and what it calls read scan_ and
  // line_, so they are brought up to date before each call. Between stops only the line count
  // changes: character data runs to the next '<'; inside a tag only a quote (opening or closing
  // an attribute value) or '>' changes anything, and the bytes in between are skipped keeping
  // the last two bytes exactly as step() would have.
  const char* const begin = buffer_.data();
  const char* const end = begin + buffer_.size();
  const char* p = begin + (scan_ - base_);
  std::uint64_t line = line_;
  const auto sync = [&] {
    scan_ = base_ + static_cast<std::uint64_t>(p - begin);
    line_ = line;
  };
  const auto skipped = [&](const char* from) {
    if (p == from) return;
    before_previous_ = p - from >= 2 ? p[-2] : previous_;
    previous_ = p[-1];
  };
  while (p < end && !refusal_) {
    switch (state_) {
      case State::text:
        while (p < end && *p != '<') line += *p++ == '\n' ? 1 : 0;
        if (p == end) break;
        tag_start_ = base_ + static_cast<std::uint64_t>(p - begin);
        tag_line_ = line;
        state_ = State::lt;
        ++p;
        break;
      case State::start_tag: {
        const char* from = p;
        if (quote_ != 0) {
          const char quote = quote_;
          while (p < end && *p != quote) line += *p++ == '\n' ? 1 : 0;
          skipped(from);
          if (p == end) break;
          quote_ = 0;
        } else {
          while (p < end && *p != '>' && *p != '"' && *p != '\'') {
            line += *p++ == '\n' ? 1 : 0;
          }
          skipped(from);
          if (p == end) break;
          if (*p == '>') {
            ++p;
            state_ = State::text;
            sync();
            on_start_tag(previous_ == '/');
            before_previous_ = previous_;
            previous_ = '>';
            break;
          }
          quote_ = *p;
        }
        before_previous_ = previous_;
        previous_ = *p++;
        break;
      }
      case State::end_tag: {
        const char* from = p;
        while (p < end && *p != '>') line += *p++ == '\n' ? 1 : 0;
        skipped(from);
        if (p == end) break;
        ++p;
        state_ = State::text;
        sync();
        on_end_tag();
        before_previous_ = previous_;
        previous_ = '>';
        break;
      }
      default: {
        const char c = *p++;
        if (c == '\n') ++line;
        sync();
        step(c);
        break;
      }
    }
  }
  sync();
  check_oversized();
}

void ExportSlicer::step(char c) {
  switch (state_) {
    case State::text:
      break;
    case State::lt:
      if (c == '?') {
        state_ = State::pi;
      } else if (c == '!') {
        state_ = State::bang;
        bang_.clear();
      } else if (c == '/') {
        state_ = State::end_tag;
      } else {
        state_ = State::start_tag;
        quote_ = 0;
        if (depth_ == 1) {
          // A child of the root begins: a document, held until it is complete.
          open_ = true;
          current_ = DocumentSlice{};
          current_.ordinal = ++ordinal_;
          current_.line = tag_line_;
          current_.start = tag_start_;
        }
      }
      previous_ = before_previous_ = 0;  // "<?>" must not close the instruction it opens
      return;
    case State::bang:
      bang_ += c;
      if (bang_ == kCommentOpen) {
        state_ = State::comment;
        previous_ = before_previous_ = 0;  // nor "<!-->" the comment
        return;
      }
      if (bang_ == kCdataOpen) {
        state_ = State::cdata;
        previous_ = before_previous_ = 0;
        return;
      }
      if (!kCommentOpen.starts_with(bang_) && !kCdataOpen.starts_with(bang_)) {
        // <!DOCTYPE, <!ENTITY, <!ELEMENT, …: name it from what has arrived.
        std::string what = "<!" + bang_;
        for (std::uint64_t at = scan_; at < base_ + buffer_.size() && what.size() < 18; ++at) {
          const char next = buffer_[static_cast<std::size_t>(at - base_)];
          if (!is_name_letter(next)) break;
          what += next;
        }
        refusal_ = Refusal{std::move(what), tag_line_};
      }
      return;
    case State::pi:
      if (c == '>' && previous_ == '?') state_ = State::text;
      break;
    case State::comment:
      if (c == '>' && previous_ == '-' && before_previous_ == '-') state_ = State::text;
      break;
    case State::cdata:
      if (c == '>' && previous_ == ']' && before_previous_ == ']') state_ = State::text;
      break;
    case State::end_tag:
      if (c == '>') {
        state_ = State::text;
        on_end_tag();
      }
      break;
    case State::start_tag:
      if (quote_ != 0) {
        if (c == quote_) quote_ = 0;
      } else if (c == '"' || c == '\'') {
        quote_ = c;
      } else if (c == '>') {
        state_ = State::text;
        on_start_tag(previous_ == '/');
      }
      break;
  }
  before_previous_ = previous_;
  previous_ = c;
}

void ExportSlicer::on_start_tag(bool empty) {
  if (depth_ == 1 && open_) {
    if (empty) {
      complete_open_document();
    } else {
      depth_ = 2;
    }
    return;
  }
  if (!empty) ++depth_;
}

void ExportSlicer::on_end_tag() {
  if (depth_ > 0) --depth_;
  if (depth_ == 1 && open_) complete_open_document();
}

void ExportSlicer::complete_open_document() {
  open_ = false;
  if (current_.oversized) return;  // its slice went out when it was found oversized
  current_.end = scan_;
  current_.end_line = line_;
  if (current_.end - current_.start > max_document_bytes_) {
    // Completed within one read, past the limit: the same verdict as a longer one.
    current_.oversized = true;
    current_.end = 0;
    current_.end_line = 0;
    current_.raw = bytes(current_.start, std::min(scan_, current_.start + kOversizedRawBytes));
  } else {
    current_.raw = bytes(current_.start, scan_);
  }
  slices_.push_back(std::move(current_));
  current_ = DocumentSlice{};
}

void ExportSlicer::check_oversized() {
  if (!open_ || current_.oversized || scan_ - current_.start <= max_document_bytes_) return;
  // From here on the document streams through unheld; the decoder skips it unexpanded.
  current_.oversized = true;
  DocumentSlice slice = current_;
  slice.raw = bytes(current_.start, current_.start + kOversizedRawBytes);
  slices_.push_back(std::move(slice));
}

std::string_view ExportSlicer::bytes(std::uint64_t from, std::uint64_t to) const {
  to = std::min<std::uint64_t>(to, base_ + buffer_.size());
  if (from < base_ || to <= from) return {};
  return std::string_view(buffer_).substr(static_cast<std::size_t>(from - base_),
                                          static_cast<std::size_t>(to - from));
}

void ExportSlicer::compact() {
  // Everything before released_ has been parsed or handed out as a slice's raw already.
  const std::uint64_t keep = released_;
  if (keep - base_ < kCompactBytes || (keep - base_) * 2 < buffer_.size()) return;
  buffer_.erase(0, static_cast<std::size_t>(keep - base_));
  base_ = keep;
}

}  // namespace tsunagu::health_centre
