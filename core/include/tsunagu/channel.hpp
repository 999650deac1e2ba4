// Channel plugins deliver one notice to one recipient by one means: a mail that says "you have N
// new notices", an HTTPS POST into a liaison's own system, an XML file for a legacy importer.
// The outbox decides when and how often to try; a channel only tries once and says how it went.
//
// Nothing here throws across the boundary: deliver() is noexcept and reports through its result,
// and the factory reports through `error`. A channel object is created once from its settings
// (which it validates then, so a bad setting stops start-up) and is then called from the outbox's
// worker threads: deliver() must be safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <tsunagu/plugin.hpp>

namespace tsunagu {

// One attempt at delivering one notice to one recipient. Text is UTF-8; times are ISO-8601 with
// the +09:00 offset ("2019-06-07T17:00:00+09:00").
struct ChannelDelivery {
  // Idempotency key of this (notice, recipient, channel): the same on every retry, so a peer or a
  // file name can recognise a repeat. Letters, digits, '.', '_' and '-' only.
  std::string delivery_id;
  std::string notice_id;
  int attempt = 1;  // 1 for the first try

  // The officer the notice is for (not the child it is about).
  std::string recipient_id;
  std::string recipient_name;
  std::string recipient_email;
  std::string recipient_role;  // liaison, coordinator, cg_emergency, …
  std::string ward_code;       // the ward the notice belongs to, e.g. "01101"

  std::string kind;         // event kind, e.g. "hc.checkup_missed"
  std::string kind_label;   // its Japanese label, e.g. "乳幼児健診未受診"
  std::string title;        // the route's title
  std::string reason;       // the route's reason sentence
  std::string legal_basis;  // e.g. "児童福祉法第25条の3"
  std::string policy;       // the policy id the notice was sent under
  std::string due_at;       // acknowledgement deadline; empty: none
  std::string created_at;

  // The fields the policy allows this notice to carry, already minimised: PERSONAL DATA. A channel
  // that cannot protect them in transit and at rest (mail) must not send them at all.
  std::map<std::string, std::string> fields;

  // The recipient's inbox as of this delivery, for summary channels (mail).
  int unread_for_recipient = 0;            // unread notices, this one included
  std::string earliest_due_for_recipient;  // the earliest deadline among them; empty: none
};

struct ChannelResult {
  enum class Outcome : std::uint32_t {
    delivered = 1,  // the peer has it
    retry = 2,      // not now (timeout, busy, connection lost): try again later
    dead = 3,       // never (refused for good, cannot be represented): do not retry
  };
  Outcome outcome = Outcome::retry;
  // What happened and why, for logs and the dead-letter list: channel, peer, stage, status code.
  // NEVER personal data — no field value, name, address or server text that may quote one.
  std::string detail;
};

inline const char* to_string(ChannelResult::Outcome outcome) noexcept {
  switch (outcome) {
    case ChannelResult::Outcome::delivered:
      return "delivered";
    case ChannelResult::Outcome::retry:
      return "retry";
    case ChannelResult::Outcome::dead:
      return "dead";
  }
  return "unknown";
}

class BOOST_SYMBOL_VISIBLE Channel {
 public:
  virtual ~Channel() = default;
  // The plugin's name, e.g. "smtp".
  virtual const char* name() const noexcept = 0;
  // Tries once. Blocks at most about the channel's own timeout setting. Thread-safe.
  virtual ChannelResult deliver(const ChannelDelivery& delivery) noexcept = 0;
};

// The factory every channel plugin exports as tsunagu_create_channel. Validates every setting (an
// unknown one is an error) and returns null with `error` set when one is wrong; never throws.
using ChannelFactory = Channel*(const PluginSettings& settings, std::string& error);

}  // namespace tsunagu

// Exports the descriptor and the factory of a channel plugin. `factory_` is a function with the
// ChannelFactory signature.
#define TSUNAGU_CHANNEL_PLUGIN(name_, version_, factory_)                    \
  TSUNAGU_PLUGIN_DESCRIPTOR(::tsunagu::PluginKind::channel, name_, version_) \
  BOOST_DLL_ALIAS(factory_, tsunagu_create_channel)
