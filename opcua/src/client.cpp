// Connection, session and recovery of the Client (OPC 10000-4 5.6 session services, 6.7 recovery).
#include <algorithm>
#include <future>

#include "client_impl.h"
#include "endpoint_discovery.h"
#include "security_algorithms.h"
#include "user_identity_token.h"

namespace oee::opcua {
namespace {

// Idle wake-ups cost more CPU than the data itself at 10K items/s, so both loops sleep long:
// closing a channel shuts its socket (waking the reader) and a lost connection notifies the
// supervisor at once. The tick bounds how late a token renewal (due at 75 % of >= 2.5 s) can be.
constexpr int kReaderPollMs = 2000;
constexpr auto kSupervisorTick = std::chrono::milliseconds(250);

// A SignatureData; absent fields are null strings.
void write_signature(BinaryWriter& w, std::string_view algorithm, std::string_view signature) {
  if (algorithm.empty()) w.null_string(); else w.string(algorithm);
  if (signature.empty()) w.null_string(); else w.string(signature);
}

// After a failed ActivateSession on a new channel: a transport failure means "try the whole
// reconnect again"; any other Bad status (BadSessionIdInvalid, BadSessionClosed, ... after a
// server restart) means the session is gone and a new one is needed.
bool session_is_gone(StatusCode s) {
  switch (s.base()) {
    case 0x800A0000u:  // BadTimeout
    case 0x80AE0000u:  // BadConnectionClosed
    case 0x808A0000u:  // BadNotConnected
    case 0x80860000u:  // BadSecureChannelClosed
    case 0x80AD0000u:  // BadDisconnect
      return false;
    default:
      return s.is_bad();
  }
}

}  // namespace

const char* node_class_name(NodeClass c) {
  switch (c) {
    case NodeClass::object: return "Object";
    case NodeClass::variable: return "Variable";
    case NodeClass::method: return "Method";
    case NodeClass::object_type: return "ObjectType";
    case NodeClass::variable_type: return "VariableType";
    case NodeClass::reference_type: return "ReferenceType";
    case NodeClass::data_type: return "DataType";
    case NodeClass::view: return "View";
    default: return "Unspecified";
  }
}

const char* client_event_kind_name(ClientEvent::Kind kind) {
  switch (kind) {
    case ClientEvent::Kind::connection_lost: return "connection_lost";
    case ClientEvent::Kind::reconnected: return "reconnected";
    case ClientEvent::Kind::session_recreated: return "session_recreated";
    case ClientEvent::Kind::subscription_transferred: return "subscription_transferred";
    case ClientEvent::Kind::subscription_recreated: return "subscription_recreated";
    case ClientEvent::Kind::data_gap: return "data_gap";
    case ClientEvent::Kind::keep_alive_missed: return "keep_alive_missed";
    case ClientEvent::Kind::subscription_status: return "subscription_status";
    case ClientEvent::Kind::item_dropped: return "item_dropped";
    case ClientEvent::Kind::repeated_failure: return "repeated_failure";
    case ClientEvent::Kind::queue_overflow: return "queue_overflow";
    case ClientEvent::Kind::oversize_search: return "oversize_search";
  }
  return "unknown";
}

Client::Impl::Impl(ClientConfig c) : config(std::move(c)), address(parse_endpoint_url(config.endpoint_url)) {
  check_security_config(config);
  publish_target = static_cast<int>(std::max<uint32_t>(1, config.publish_requests_in_flight));
}

void Client::Impl::emit(ClientEvent event) {
  std::lock_guard lock(event_mutex);
  if (event_handler) event_handler(event);
}

// ------------------------------------------------------------------------------------ channel

void Client::Impl::open_channel() {
  TransportLimits ours{config.receive_buffer_size, config.send_buffer_size, config.max_message_size,
                       config.max_chunk_count};
  auto security = make_channel_security(ours);
  auto connection = TcpConnection::connect(address, static_cast<int>(config.connect_timeout_ms));
  auto fresh = std::make_shared<SecureChannel>(std::move(connection), std::move(security), ours);
  fresh->open(config.endpoint_url, config.secure_channel_lifetime_ms, static_cast<int>(config.connect_timeout_ms));
  std::lock_guard lock(channel_mutex);
  const uint64_t gen = ++generation;
  channel_opened_at = Clock::now().time_since_epoch().count();
  channel = fresh;
  lost = false;
  channel_up = true;
  reader = std::thread([this, fresh, gen] { reader_loop(fresh, gen); });
}

std::unique_ptr<SecurityPolicy> Client::Impl::make_channel_security(const TransportLimits& ours) {
  if (wants_security_policy_none(config)) return make_security_policy_none();
  // Discovered anew on every connection: a restarted server may have a new certificate.
  EndpointDescription chosen = select_endpoint(discover_endpoints(config, ours), config);
  if (config.verify_server_certificate) config.verify_server_certificate(chosen.server_certificate, chosen);
  auto security = make_security_policy(chosen.security_policy_uri, chosen.security_mode, config.credentials,
                                       chosen.server_certificate);
  std::lock_guard lock(session_mutex);
  secured_endpoint = std::move(chosen);
  return security;
}

void Client::Impl::close_channel(StatusCode reason) {
  std::shared_ptr<SecureChannel> old;
  std::thread old_reader;
  {
    std::lock_guard lock(channel_mutex);
    ++generation;  // the old reader's failure is no longer news
    channel_up = false;
    old = std::move(channel);
    old_reader = std::move(reader);
  }
  if (old) old->shutdown();
  if (old_reader.joinable()) old_reader.join();
  if (old) {
    closed_chunks_sent += old->chunks_sent();
    closed_chunks_received += old->chunks_received();
  }
  fail_all_pending(reason);
}

void Client::Impl::connection_lost(uint64_t gen, StatusCode status, const std::string& why) {
  {
    std::lock_guard lock(channel_mutex);
    if (gen != generation.load() || !channel_up) return;
    channel_up = false;
    if (stopping) return;  // disconnect() closes on purpose
    lost = true;
    lost_at = DateTime::now();
    lost_status = status;
  }
  note_channel_failure(gen, status);  // before the failed Publish requests leave the pipeline
  fail_all_pending(status);
  emit(ClientEvent{ClientEvent::Kind::connection_lost, 0, status, DateTime::now(), {}, 0, 0, why});
  supervisor_cv.notify_all();
}

void Client::Impl::reader_loop(std::shared_ptr<SecureChannel> ch, uint64_t gen) {
  for (;;) {
    if (gen != generation.load()) return;  // replaced or closed; close_channel also shuts the socket
    std::optional<AssembledMessage> message;
    try {
      message = ch->receive(kReaderPollMs);
    } catch (const Error& e) {
      connection_lost(gen, e.status(), e.what());
      return;
    }
    if (!message) continue;
    if (message->type == MessageType::open) {
      try {
        if (message->aborted) throw Error(message->abort_status, "token renewal aborted");
        ch->apply_open_response(*message);
        ++token_renewals;
      } catch (const Error& e) {
        connection_lost(gen, e.status(), std::string("token renewal failed: ") + e.what());
        return;
      }
      continue;
    }
    ++messages_received;
    {
      uint64_t seen = max_chunks_received.load();
      while (message->chunk_count > seen && !max_chunks_received.compare_exchange_weak(seen, message->chunk_count)) {
      }
    }
    Completion completion;
    {
      std::lock_guard lock(pending_mutex);
      auto it = pending.find(message->request_id);
      if (it == pending.end()) continue;  // a response after its caller gave up
      completion = std::move(it->second);
      pending.erase(it);
    }
    if (message->aborted) {
      completion(message->abort_status.is_bad() ? message->abort_status : status::bad_request_interrupted, nullptr);
    } else {
      completion(status::good, &message->body);
    }
  }
}

void Client::Impl::fail_all_pending(StatusCode status) {
  std::map<uint32_t, Completion> failed;
  {
    std::lock_guard lock(pending_mutex);
    failed.swap(pending);
  }
  for (auto& [id, completion] : failed) completion(status, nullptr);
}

// ------------------------------------------------------------------------------------ requests

std::vector<uint8_t> Client::Impl::encode_request(uint32_t type_id, uint32_t request_handle,
                                                  const std::function<void(BinaryWriter&)>& fields,
                                                  uint32_t timeout_hint_ms) {
  std::vector<uint8_t> body;
  BinaryWriter w(body);
  NodeId token;
  {
    std::lock_guard lock(session_mutex);
    token = authentication_token;
  }
  begin_request(w, type_id, RequestHeader{token, request_handle, timeout_hint_ms});
  fields(w);
  return body;
}

uint32_t Client::Impl::send_async(uint32_t type_id, const std::function<void(BinaryWriter&)>& fields,
                                  uint32_t timeout_hint_ms, Completion completion) {
  std::shared_ptr<SecureChannel> ch;
  uint64_t gen = 0;
  {
    std::lock_guard lock(channel_mutex);
    if (channel_up && channel) {
      ch = channel;
      gen = generation.load();
    }
  }
  if (!ch) {
    completion(status::bad_not_connected, nullptr);
    return 0;
  }
  const uint32_t request_id = ch->next_request_id();
  const auto body = encode_request(type_id, request_id, fields, timeout_hint_ms);
  {
    std::lock_guard lock(pending_mutex);
    pending.emplace(request_id, std::move(completion));
  }
  try {
    ch->send_message(request_id, body);
    ++messages_sent;
    last_activity = Clock::now().time_since_epoch().count();
  } catch (const Error& e) {
    Completion failed;
    {
      std::lock_guard lock(pending_mutex);
      auto it = pending.find(request_id);
      if (it != pending.end()) {
        failed = std::move(it->second);
        pending.erase(it);
      }
    }
    // A request too large for the server fails alone; anything else means the connection is gone.
    if (e.status().base() != 0x80B80000u) connection_lost(gen, e.status(), e.what());
    if (failed) failed(e.status(), nullptr);
  }
  return request_id;
}

std::vector<uint8_t> Client::Impl::call(uint32_t type_id, const std::function<void(BinaryWriter&)>& fields) {
  struct Outcome {
    StatusCode status;
    std::vector<uint8_t> body;
  };
  auto promise = std::make_shared<std::promise<Outcome>>();
  auto future = promise->get_future();
  const uint32_t request_id =
      send_async(type_id, fields, config.request_timeout_ms, [promise](StatusCode s, std::vector<uint8_t>* body) {
        promise->set_value(Outcome{s, body ? std::move(*body) : std::vector<uint8_t>{}});
      });
  if (future.wait_for(std::chrono::milliseconds(config.request_timeout_ms)) != std::future_status::ready) {
    // Forget the request; a late response is dropped by the reader.
    {
      std::lock_guard lock(pending_mutex);
      pending.erase(request_id);
    }
    throw Error(status::bad_timeout, "no response within " + std::to_string(config.request_timeout_ms) + " ms");
  }
  Outcome outcome = future.get();
  if (outcome.status.is_bad()) throw Error(outcome.status, "request failed");
  return std::move(outcome.body);
}

// ------------------------------------------------------------------------------------ session

std::vector<EndpointDescription> Client::Impl::get_endpoints() {
  auto body = call(type_id::get_endpoints_request, [&](BinaryWriter& w) {
    w.string(config.endpoint_url);
    w.i32(0);  // localeIds
    w.i32(0);  // profileUris
  });
  BinaryReader r(body);
  begin_response(r, type_id::get_endpoints_response, "GetEndpoints");
  return r.array([&] { return decode_endpoint_description(r); });
}

std::shared_ptr<SecureChannel> Client::Impl::current_channel() {
  std::lock_guard lock(channel_mutex);
  if (!channel) throw Error(status::bad_not_connected, "no channel");
  return channel;
}

void Client::Impl::create_session() {
  {
    std::lock_guard lock(session_mutex);
    authentication_token = NodeId();
    has_session = false;
  }
  const auto ch = current_channel();
  const SecurityPolicy& security = ch->security();
  const bool secured = security.mode() != MessageSecurityMode::none;
  const std::string client_nonce = random_bytes(32);
  auto body = call(type_id::create_session_request, [&](BinaryWriter& w) {
    w.string(config.application_uri);
    w.string("urn:oee:opcua");
    w.localized_text(LocalizedText{"", config.application_name});
    w.u32(1);  // ApplicationType Client
    w.null_string();
    w.null_string();
    w.i32(0);  // discoveryUrls
    w.null_string();  // serverUri
    w.string(config.endpoint_url);
    w.string(config.application_name + " session");
    w.string(client_nonce);
    if (secured) w.string(config.credentials.certificate_der); else w.null_string();
    w.f64(config.session_timeout_ms);
    w.u32(config.max_message_size);
  });
  BinaryReader r(body);
  begin_response(r, type_id::create_session_response, "CreateSession");
  NodeId id = r.node_id();
  NodeId token = r.node_id();
  const double timeout_ms = r.f64();
  std::string nonce = r.string();
  std::string certificate = r.string();
  auto endpoints = r.array([&] { return decode_endpoint_description(r); });
  const size_t software_certificates = r.array_length(8);
  for (size_t i = 0; i < software_certificates; ++i) {
    r.string();
    r.string();
  }
  r.string();  // serverSignature.algorithm
  const std::string server_signature = r.string();
  r.u32();     // maxRequestMessageSize
  if (secured) check_server_session(security, certificate, nonce, server_signature, client_nonce);
  std::lock_guard lock(session_mutex);
  session_id = std::move(id);  // revised_session_timeout_ms is only written here, before the supervisor starts or by it
  authentication_token = std::move(token);
  revised_session_timeout_ms = timeout_ms;
  server_nonce = std::move(nonce);
  server_certificate = std::move(certificate);
  session_endpoints = std::move(endpoints);
  has_session = true;
}

// The server proves it holds its certificate's key by signing our certificate and nonce
// (OPC 10000-4 5.6.2); its certificate must be the one the channel was opened for.
void Client::Impl::check_server_session(const SecurityPolicy& security, const std::string& certificate,
                                        const std::string& nonce, const std::string& signature,
                                        const std::string& client_nonce) {
  std::string expected_certificate;
  {
    std::lock_guard lock(session_mutex);
    expected_certificate = secured_endpoint.server_certificate;
  }
  if (certificate != expected_certificate) {
    throw Error(kBadCertificateUntrusted, "CreateSession: the server's certificate differs from its endpoint's");
  }
  if (nonce.size() < 32) throw Error(kBadNonceInvalid, "CreateSession: server nonce shorter than 32 bytes");
  if (!security.verify(config.credentials.certificate_der + client_nonce, signature)) {
    throw Error(kBadApplicationSignatureInvalid, "CreateSession: the server's signature check failed");
  }
}

void Client::Impl::activate_session() {
  std::vector<EndpointDescription> endpoints;
  std::string nonce, certificate;
  {
    std::lock_guard lock(session_mutex);
    endpoints = session_endpoints;
    nonce = server_nonce;
    certificate = server_certificate;
  }
  const auto ch = current_channel();
  const SecurityPolicy& security = ch->security();
  if (endpoints.empty()) endpoints = get_endpoints();
  const UserTokenType wanted = !config.user_certificate_der.empty() ? UserTokenType::certificate
                               : config.user_name.empty()          ? UserTokenType::anonymous
                                                                   : UserTokenType::user_name;
  const auto choice = choose_identity_token(endpoints, wanted, security.uri(), security.mode());
  if (certificate.empty()) {
    for (const auto& e : endpoints) {
      if (!e.server_certificate.empty()) certificate = e.server_certificate;
    }
  }
  const IdentityToken token = make_identity_token(choice, config, certificate, nonce);
  // Our application signature: the server's certificate and its latest nonce (OPC 10000-4 5.6.3).
  const std::string client_signature = security.sign(certificate + nonce);
  auto body = call(type_id::activate_session_request, [&](BinaryWriter& w) {
    write_signature(w, client_signature.empty() ? std::string_view{} : security.signature_algorithm_uri(),
                    client_signature);
    w.i32(0);         // clientSoftwareCertificates
    w.i32(0);         // localeIds
    w.extension_object(token.token);
    write_signature(w, token.signature_algorithm, token.signature);
  });
  BinaryReader r(body);
  begin_response(r, type_id::activate_session_response, "ActivateSession");
  std::string fresh_nonce = r.string();
  std::lock_guard lock(session_mutex);
  server_nonce = std::move(fresh_nonce);
}

void Client::Impl::close_session() {
  try {
    auto body = call(type_id::close_session_request, [](BinaryWriter& w) { w.boolean(true); });
    BinaryReader r(body);
    begin_response(r, type_id::close_session_response, "CloseSession");
  } catch (const std::exception&) {
    // closing is best effort: the server times the session out anyway
  }
  std::lock_guard lock(session_mutex);
  has_session = false;
  authentication_token = NodeId();
}

void Client::Impl::read_operation_limits() {
  constexpr uint32_t kLimitNodes[] = {11705, 11707, 11710, 11714};
  auto body = call(type_id::read_request, [&](BinaryWriter& w) {
    w.f64(0);
    w.u32(2);
    w.i32(4);
    for (uint32_t id : kLimitNodes) encode_read_value_id(w, ReadValueId{NodeId(0, id), AttributeId::value, {}});
  });
  BinaryReader r(body);
  begin_response(r, type_id::read_response, "Read");
  const auto values = r.array([&] { return r.data_value(); });
  uint32_t found[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < values.size() && i < 4; ++i) {
    const auto& v = values[i];
    if (v.status.is_good() && v.has_value && !v.value.values.empty()) {
      if (const auto* n = std::get_if<uint32_t>(&v.value.values.front())) found[i] = *n;
    }
  }
  std::lock_guard lock(session_mutex);
  limits = OperationLimits{found[0], found[1], found[2], found[3]};
}

// ------------------------------------------------------------------------------------ supervision

void Client::Impl::supervisor_loop() {
  while (!stopping) {
    {
      std::unique_lock lock(supervisor_mutex);
      supervisor_cv.wait_for(lock, kSupervisorTick);
    }
    if (stopping) return;
    if (lost) {
      if (config.reconnect) recover();
      continue;
    }
    drop_oversized_items();
    if (bisect.active) {
      try {
        advance_oversize_bisect(false, true);
      } catch (const Error& e) {
        connection_lost(generation.load(), e.status(), std::string("bisecting the items: ") + e.what());
        continue;
      }
    }
    std::shared_ptr<SecureChannel> ch;
    {
      std::lock_guard lock(channel_mutex);
      if (!channel_up) continue;
      ch = channel;
    }
    // Renew the token at 75 % of its lifetime (OPC 10000-4 5.5.2).
    const auto lifetime = std::chrono::milliseconds(ch->revised_lifetime_ms());
    if (lifetime.count() > 0 && Clock::now() - ch->token_created_at() > lifetime * 3 / 4) {
      try {
        ch->send_renew(ch->next_request_id(), config.secure_channel_lifetime_ms);
        // Until the response arrives, push the next check out so we do not send a second renew.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      } catch (const Error& e) {
        connection_lost(generation.load(), e.status(), e.what());
        continue;
      }
    }
    bool any_subscription;
    {
      std::lock_guard lock(subscriptions_mutex);
      any_subscription = !subscriptions.empty();
    }
    if (any_subscription) {
      bool expired = false;
      {
        std::lock_guard lock(subscriptions_mutex);
        for (const auto& [id, sub] : subscriptions) expired |= sub->needs_recreate.load();
      }
      if (expired) {
        try {
          recreate_expired_subscriptions({}, false);
          fill_publish_pipeline();
        } catch (const Error& e) {
          connection_lost(generation.load(), e.status(), std::string("recreating an expired subscription: ") + e.what());
        }
      }
      check_keep_alive();
    } else if (has_session && Clock::now() - Clock::time_point(Clock::duration(last_activity.load())) >
                                  std::chrono::milliseconds(static_cast<int64_t>(revised_session_timeout_ms / 3))) {
      // Without subscriptions nothing keeps the session alive: read the server state.
      try {
        auto body = call(type_id::read_request, [](BinaryWriter& w) {
          w.f64(0);
          w.u32(2);
          w.i32(1);
          encode_read_value_id(w, ReadValueId{NodeId(0, 2259), AttributeId::value, {}});
        });
      } catch (const Error& e) {
        if (e.status() == status::bad_timeout) connection_lost(generation.load(), e.status(), "session keep-alive timed out");
      }
    }
  }
}

uint32_t Client::Impl::first_reconnect_delay_ms() {
  const bool relapse = recovered_at != Clock::time_point{} &&
                       Clock::now() - recovered_at < std::chrono::milliseconds(config.reconnect_stable_after_ms);
  if (!relapse) {
    relapses = 0;
    backoff_ms = config.reconnect_delay_min_ms;
    return 0;
  }
  ++relapses;
  emit(ClientEvent{ClientEvent::Kind::repeated_failure, 0, lost_status, DateTime::now(), {}, 0, 0,
                   "lost again within " + std::to_string(config.reconnect_stable_after_ms) + " ms of reconnecting (" +
                       std::to_string(relapses) + " times in a row): backing off",
                   0, backoff_ms});
  return backoff_ms;
}

void Client::Impl::recover() {
  const DateTime since = lost_at;
  close_channel(status::bad_connection_closed);
  // A failure that comes back after every reconnect (a value the channel cannot carry, a server
  // that drops each new session) must not reconnect at the minimum delay for ever.
  uint32_t delay_ms = first_reconnect_delay_ms();
  if (delay_ms == 0) delay_ms = config.reconnect_delay_min_ms;
  for (int attempt = relapses > 0 ? 1 : 0; !stopping; ++attempt) {
    if (attempt > 0) {
      std::unique_lock lock(supervisor_mutex);
      supervisor_cv.wait_for(lock, std::chrono::milliseconds(delay_ms), [this] { return stopping.load(); });
      delay_ms = std::min(config.reconnect_delay_max_ms, delay_ms * 2);
      if (stopping) return;
    }
    try {
      open_channel();
      if (!config.create_session) {
        ++reconnects;
        emit(ClientEvent{ClientEvent::Kind::reconnected, 0, status::good, since, DateTime::now(), 0, 0, "channel reopened"});
        recovered_at = Clock::now();
        backoff_ms = delay_ms;
        return;
      }
      bool survived = false;
      if (has_session) {
        try {
          activate_session();  // the session may have outlived the connection
          survived = true;
        } catch (const Error& e) {
          if (!session_is_gone(e.status())) throw;
        }
      }
      if (!survived) {
        create_session();
        activate_session();
        read_operation_limits();
        emit(ClientEvent{ClientEvent::Kind::session_recreated, 0, status::good, since, DateTime::now(), 0, 0, "old session gone"});
        restore_subscriptions(since);
      } else {
        recreate_expired_subscriptions(since, true);
      }
      advance_oversize_bisect(true, survived);  // before any Publish on this channel
      ++reconnects;
      // Reconnected as of now, before the event: a loss is a relapse only within
      // reconnect_stable_after_ms of what the event reports, however long the pipeline takes to fill.
      recovered_at = Clock::now();
      emit(ClientEvent{ClientEvent::Kind::reconnected, 0, status::good, since, DateTime::now(), 0, 0,
                       survived ? "session reactivated" : "new session"});
      {
        std::lock_guard lock(subscriptions_mutex);
        for (auto& [id, sub] : subscriptions) sub->touch();
      }
      fill_publish_pipeline();
      backoff_ms = delay_ms;
      return;
    } catch (const std::exception& e) {
      close_channel(status::bad_connection_closed);
      lost = true;
    }
  }
}

// ------------------------------------------------------------------------------------ public API

Client::Client(ClientConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

Client::~Client() { disconnect(); }

void Client::set_event_handler(ClientEventHandler handler) {
  std::lock_guard lock(impl_->event_mutex);
  impl_->event_handler = std::move(handler);
}

void Client::connect() {
  Impl& d = *impl_;
  d.stopping = false;
  try {
    d.open_channel();
    if (d.config.create_session) {
      d.create_session();
      d.activate_session();
      d.read_operation_limits();
    }
  } catch (const Error& e) {
    d.close_channel(status::bad_connection_closed);
    // A server without None endpoints refuses the channel or the session: say what it offers.
    if (wants_security_policy_none(d.config) && (e.status() == status::bad_security_policy_rejected ||
                                                 e.status() == kBadSecurityModeRejected)) {
      explain_none_rejected(d.config, TransportLimits{d.config.receive_buffer_size, d.config.send_buffer_size,
                                                      d.config.max_message_size, d.config.max_chunk_count}, e);
    }
    throw;
  } catch (...) {
    d.close_channel(status::bad_connection_closed);
    throw;
  }
  d.last_activity = Impl::Clock::now().time_since_epoch().count();
  d.notifier = std::thread([&d] { d.notifier_loop(); });
  d.supervisor = std::thread([&d] { d.supervisor_loop(); });
}

void Client::disconnect() {
  Impl& d = *impl_;
  if (d.stopping.exchange(true)) return;
  // A thread that saw `stopping` false under its mutex may not be waiting yet: taking the mutex
  // here waits until it is, so the notification cannot be lost (the notifier waits without a
  // timeout, and `disconnect` joins it).
  { std::lock_guard lock(d.supervisor_mutex); }
  { std::lock_guard lock(d.notifier_mutex); }
  d.supervisor_cv.notify_all();
  d.notifier_cv.notify_all();
  if (d.supervisor.joinable()) d.supervisor.join();
  if (d.channel_up) {
    if (d.has_session) d.close_session();  // deletes the subscriptions with it
    std::shared_ptr<SecureChannel> ch;
    {
      std::lock_guard lock(d.channel_mutex);
      ch = d.channel;
    }
    try {
      if (ch) ch->send_close();
    } catch (const std::exception&) {
    }
  }
  d.close_channel(status::bad_disconnect);
  if (d.notifier.joinable()) d.notifier.join();
}

bool Client::connected() const { return impl_->channel_up; }

std::vector<EndpointDescription> Client::get_endpoints() { return impl_->get_endpoints(); }

OperationLimits Client::operation_limits() const {
  std::lock_guard lock(impl_->session_mutex);
  return impl_->limits;
}

ClientStatistics Client::statistics() const {
  Impl& d = *impl_;
  ClientStatistics s;
  std::shared_ptr<SecureChannel> ch;
  {
    std::lock_guard lock(d.channel_mutex);
    ch = d.channel;
  }
  s.chunks_sent = d.closed_chunks_sent + (ch ? ch->chunks_sent() : 0);
  s.chunks_received = d.closed_chunks_received + (ch ? ch->chunks_received() : 0);
  s.messages_sent = d.messages_sent;
  s.messages_received = d.messages_received;
  s.max_chunks_per_sent_message = std::max<uint64_t>(d.max_chunks_sent, ch ? ch->max_chunks_per_sent_message() : 0);
  s.max_chunks_per_received_message = std::max<uint64_t>(d.max_chunks_received, ch ? ch->max_chunks_per_received_message() : 0);
  s.token_renewals = d.token_renewals;
  s.reconnects = d.reconnects;
  s.publish_responses = d.publish_responses_count;
  s.republished_messages = d.republished;
  if (ch) {
    s.revised_token_lifetime_ms = ch->revised_lifetime_ms();
    s.negotiated_send_buffer_size = ch->negotiated().receive_buffer_size;
    s.negotiated_receive_buffer_size = ch->negotiated().send_buffer_size;
    s.security_policy_uri = ch->security().uri();
    s.security_mode = ch->security().mode();
  }
  return s;
}

}  // namespace oee::opcua
