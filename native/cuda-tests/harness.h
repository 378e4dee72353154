// A minimal test harness for the native/cuda-tests binaries (no framework dependency): named checks that
// print what they compared, a pass/fail count, and the closing line "N passed, N failed".
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace siri::cuda::testing {

struct Harness {
  int passed = 0;         // tests
  int failed = 0;         // tests
  int check_failures = 0;  // checks inside the running test

  // Runs one named test; an exception counts as a failure with its message.
  void Run(const std::string& name, const std::function<void()>& body) {
    check_failures = 0;
    try {
      body();
    } catch (const std::exception& e) {
      std::printf("  error: %s\n", e.what());
      ++check_failures;
    }
    if (check_failures == 0) {
      ++passed;
      std::printf("ok   %s\n", name.c_str());
    } else {
      ++failed;
      std::printf("FAIL %s\n", name.c_str());
    }
    std::fflush(stdout);
  }

  // A check inside a test: prints the failing comparison (and, verbose, the passing ones).
  bool Expect(bool condition, const std::string& what) {
    if (!condition) {
      std::printf("  failed: %s\n", what.c_str());
      ++check_failures;
    }
    return condition;
  }

  // ‖out − ref‖/‖ref‖ ≤ tolerance, reported with the measured error.
  bool ExpectRelative(double error, double tolerance, const std::string& what) {
    char line[256];
    std::snprintf(line, sizeof(line), "%s: relative error %.3g (tolerance %.1g)", what.c_str(), error, tolerance);
    if (Verbose()) std::printf("  %s\n", line);
    return Expect(error <= tolerance, line);
  }

  bool ExpectNear(double value, double expected, double tolerance, const std::string& what) {
    char line[256];
    std::snprintf(line, sizeof(line), "%s: got %.10g, expected %.10g (± %.1g)", what.c_str(), value, expected, tolerance);
    return Expect(std::fabs(value - expected) <= tolerance, line);
  }

  static bool& Verbose() {
    static bool verbose = false;
    return verbose;
  }

  int Finish() const {
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
  }
};

}  // namespace siri::cuda::testing
