// Philox4x32-10 and the helpers the sampling kernel shares with its CPU reference: compiled by nvcc for the
// device and by any C++17 compiler for the host, so the reference draws bit-identical random numbers.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define SIRI_HOST_DEVICE __host__ __device__
#else
#define SIRI_HOST_DEVICE
#endif

namespace siri::cuda::raw {

// ---- Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) -------------
// A bijection of a 128-bit counter under a 64-bit key: 10 rounds of
//   (c0, c1, c2, c3) ← (hi(M1·c2) ⊕ c1 ⊕ k0, lo(M1·c2), hi(M0·c0) ⊕ c3 ⊕ k1, lo(M0·c0))
// with the key bumped by the Weyl constants (W0, W1) between rounds. Usable on host and device, so the
// CPU reference draws exactly the numbers the kernels draw.
struct Philox4 {
  uint32_t x[4];
};

SIRI_HOST_DEVICE inline uint32_t MulHi32(uint32_t a, uint32_t b) {
#ifdef __CUDA_ARCH__
  return __umulhi(a, b);
#else
  return static_cast<uint32_t>((static_cast<uint64_t>(a) * b) >> 32);
#endif
}

SIRI_HOST_DEVICE inline Philox4 Philox4x32_10(Philox4 counter, uint32_t key0, uint32_t key1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u, kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0 = counter.x[0], c1 = counter.x[1], c2 = counter.x[2], c3 = counter.x[3];
#ifdef __CUDACC__
#pragma unroll
#endif
  for (int round = 0; round < 10; ++round) {
    const uint32_t hi0 = MulHi32(kM0, c0), lo0 = kM0 * c0;
    const uint32_t hi1 = MulHi32(kM1, c2), lo1 = kM1 * c2;
    const uint32_t n0 = hi1 ^ c1 ^ key0, n2 = hi0 ^ c3 ^ key1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    key0 += kW0;
    key1 += kW1;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in the open interval (0, 1) from the top 23 bits: (⌊x / 2^9⌋ + ½)·2^-23 ∈ [2^-24, 1 − 2^-24],
// exact in fp32 (with 24 bits the top value, (2^24 − ½)·2^-24, would round to 1 and −log U to 0).
SIRI_HOST_DEVICE inline float UniformOpen(uint32_t bits) {
  return (static_cast<float>(bits >> 9) + 0.5f) * (1.0f / 8388608.0f);
}

// The sampling stream: key = seed, counter = (vocab group, step, sequence index lo, hi); the generator's
// four words serve vocabulary entries 4g..4g+3. Same (seed, sequence, step) ⇒ same draws, whatever the
// batch row, batch size or launch shape.
SIRI_HOST_DEVICE inline Philox4 SamplingDraws(uint64_t seed, int64_t sequence, int64_t step,
                                                          int64_t vocab_group) {
  const uint64_t seq = static_cast<uint64_t>(sequence);
  Philox4 counter{{static_cast<uint32_t>(vocab_group), static_cast<uint32_t>(step), static_cast<uint32_t>(seq),
                   static_cast<uint32_t>(seq >> 32)}};
  return Philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Monotone map of an fp32 value to uint32: a < b ⇔ Key(a) < Key(b) (for non-NaN values).
SIRI_HOST_DEVICE inline uint32_t OrderedKey(float value) {
#ifdef __CUDA_ARCH__
  const uint32_t bits = __float_as_uint(value);
#else
  uint32_t bits;
  static_assert(sizeof(bits) == sizeof(value), "fp32 is 32 bits");
  std::memcpy(&bits, &value, sizeof(bits));
#endif
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

}  // namespace siri::cuda::raw
