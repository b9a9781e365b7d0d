// twi-sim: `twi sim` on its own (the same code), so that the quickstart builds only what it
// runs: the simulated hierarchies without the verifiers, collectors and inspectors of `twi`.
//
//   twi-sim sev-snp|tdx|azure|gcp ...   exactly as `twi sim ...`
#include <string>
#include <vector>

#include "cli/commands.h"

int main(int argc, char** argv) {
  return twi::cli::Sim(std::vector<std::string>(argv + 1, argv + argc));
}
