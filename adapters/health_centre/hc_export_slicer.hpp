// Finds where each document of a health-centre export begins and ends in the raw bytes, and
// decides which bytes libxml2 may read.
//
// libxml2 parses the export (hc_export_decoder.cpp); this scanner does not parse XML, it only
// tracks markup boundaries and element depth, for three things libxml2 cannot give:
//  - the exact bytes of every document (NativeRecord::raw, kept for quarantine and digests): the
//    parser reports no byte offsets for elements;
//  - a hostile prologue is stopped before libxml2 sees it: a markup declaration (<!DOCTYPE,
//    <!ENTITY, …) is never released to the parser, so no entity can be declared, expanded or
//    fetched whatever the parser options are;
//  - a document larger than the limit is known to be one before libxml2 reaches its start tag,
//    so the decoder can let it stream past unread instead of gathering its fields.
// A document's bytes are held back until the document is complete (or found oversized), so
// memory is bounded by the document limit, not by the file.
//
// It is byte-oriented and relies on '<', '>', quotes, '!', '?', '/' being single ASCII bytes,
// true of UTF-8 (the export's encoding) and every ASCII-compatible encoding; UTF-16 is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace tsunagu::health_centre {

// One element child of the root element: a document (or whatever else stands there).
struct DocumentSlice {
  std::uint64_t ordinal = 0;   // 1-based position among the root's child elements
  std::uint64_t line = 0;      // line of its '<'
  std::uint64_t end_line = 0;  // line of its last '>'; 0 when oversized
  std::uint64_t start = 0;     // byte offset of its '<' in the input
  std::uint64_t end = 0;       // byte offset just after its last '>'; 0 when oversized
  std::string raw;             // its bytes exactly; if oversized, the bytes held when it was found
                               // to be (at least the limit, at most kOversizedRawBytes)
  bool oversized = false;      // longer than the limit: raw is a prefix, the rest was not held
};

// Why the input must not reach the parser at all.
struct Refusal {
  std::string what;        // "<!DOCTYPE", "<!ENTITY", … or "UTF-16"
  std::uint64_t line = 0;  // where it starts
};

class ExportSlicer {
 public:
  // What is kept of an oversized document for quarantine: enough to identify it.
  static constexpr std::size_t kOversizedRawBytes = 65536;

  explicit ExportSlicer(std::size_t max_document_bytes);

  // Appends input bytes and scans them. Ignored once refused.
  void feed(std::string_view bytes);
  // The input has ended: everything scanned may be released.
  void finish();
  bool finished() const noexcept { return finished_; }

  // Bytes that libxml2 may read now: everything scanned, except a document that is not complete
  // yet (unless it is oversized) and markup not classified yet (it might be a declaration).
  std::size_t releasable() const noexcept;
  // Copies up to `capacity` releasable bytes into `out`; returns how many.
  std::size_t release(char* out, std::size_t capacity);

  // The slice of the root's child element `ordinal`, once it is complete or known to be oversized.
  // Slices are taken in order; earlier ones not taken are dropped.
  std::optional<DocumentSlice> take(std::uint64_t ordinal);
  // The ordinal and first line of the root child element that contains byte `offset`, if it is
  // still known (not taken, or the one in progress); 0 otherwise.
  std::uint64_t ordinal_at(std::uint64_t offset, std::uint64_t* line = nullptr) const noexcept;

  const std::optional<Refusal>& refusal() const noexcept { return refusal_; }
  // Bytes of input scanned so far.
  std::uint64_t scanned() const noexcept { return scan_; }

 private:
  enum class State { text, lt, bang, pi, comment, cdata, start_tag, end_tag };

  void scan();
  void step(char c);
  void on_start_tag(bool empty);
  void on_end_tag();
  void complete_open_document();
  void check_oversized();
  std::string_view bytes(std::uint64_t from, std::uint64_t to) const;
  void compact();

  std::size_t max_document_bytes_;
  std::string buffer_;          // input bytes from offset base_ on
  std::uint64_t base_ = 0;      // input offset of buffer_[0]
  std::uint64_t released_ = 0;  // input offset up to which bytes went to libxml2
  std::uint64_t scan_ = 0;      // input offset up to which bytes are scanned
  std::uint64_t line_ = 1;      // line of the byte at scan_
  bool finished_ = false;
  std::optional<Refusal> refusal_;

  State state_ = State::text;
  std::uint64_t tag_start_ = 0;  // offset of the '<' of the markup being scanned
  std::uint64_t tag_line_ = 1;
  std::string bang_;   // what follows "<!" until it is classified
  char quote_ = 0;     // the quote an attribute value in a start tag opened
  char previous_ = 0;  // the two bytes before the current one, within the markup
  char before_previous_ = 0;
  int depth_ = 0;  // open elements: 1 inside the root, 2 inside a document
  bool root_closed_ = false;

  bool open_ = false;                 // a root child element is being scanned
  DocumentSlice current_;             // its slice so far (raw filled when complete)
  std::uint64_t ordinal_ = 0;         // root child elements seen
  std::deque<DocumentSlice> slices_;  // complete or oversized, not yet taken
};

}  // namespace tsunagu::health_centre
