#pragma once

namespace inferwatch::app {

// The whole program: parse the command line, run the command, return the exit code.
// Exit codes: 0 success, 1 some inputs failed or problems were found, 2 usage or startup error.
int run(int argc, char** argv);

}  // namespace inferwatch::app
