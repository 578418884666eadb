// Embeds the demo model with the assembler's .incbin: no giant array for the compiler to parse.
#include <inferwatch/infer/demo_model.hpp>

#ifndef INFERWATCH_DEMO_MODEL_PATH
#error "INFERWATCH_DEMO_MODEL_PATH must name models/demo/demo-shapes.pt"
#endif

__asm__(
    ".section .rodata\n"
    ".balign 64\n"
    ".global inferwatch_demo_model_begin\n.hidden inferwatch_demo_model_begin\n"
    "inferwatch_demo_model_begin:\n"
    ".incbin \"" INFERWATCH_DEMO_MODEL_PATH
    "\"\n"
    ".global inferwatch_demo_model_end\n.hidden inferwatch_demo_model_end\n"
    "inferwatch_demo_model_end:\n"
    ".previous\n");

extern "C" const char inferwatch_demo_model_begin[];
extern "C" const char inferwatch_demo_model_end[];

namespace inferwatch::infer {

std::string_view demo_model_bytes() {
  return {inferwatch_demo_model_begin,
          static_cast<std::size_t>(inferwatch_demo_model_end - inferwatch_demo_model_begin)};
}

}  // namespace inferwatch::infer
