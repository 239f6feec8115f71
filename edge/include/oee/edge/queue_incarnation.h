#pragma once
// The incarnation of an edge's durable queue (docs/edge.md): a random id made together with a new
// queue and kept in its directory. Events carry it as `inc` beside `src` and `seq`: a queue that was
// wiped or replaced numbers its events from 0 again under a new incarnation, so the server never
// takes them for duplicates of the old queue's.
#include <string>

namespace oee::edge {

// Reads DIR/incarnation; makes it (durably, before the queue writes anything) when the directory
// holds no queue yet. A queue made before incarnations existed keeps the empty incarnation, so its
// events keep their identities. Throws std::runtime_error on I/O errors.
std::string load_or_create_queue_incarnation(const std::string& dir);

}  // namespace oee::edge
