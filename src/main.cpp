#include <inferwatch/app/run.hpp>

int main(int argc, char** argv) { return inferwatch::app::run(argc, argv); }
