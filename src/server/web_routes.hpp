#pragma once

// The review page (SPEC §11): GET / and each file of web/, as compiled into the binary. Private
// to server/.

#include <inferwatch/server/router.hpp>

namespace inferwatch::server {

// GET / (index.html) and GET /<name> for every embedded file; open (the page asks for the token
// itself when the API wants one), each with a Content-Security-Policy that allows nothing but
// this origin: no inline script or style, no other host.
void add_web_routes(Router& router);

}  // namespace inferwatch::server
