import Foundation

/// Deterministic, seedable random numbers (xoshiro256** seeded through SplitMix64), so a run's
/// initialisation and batches are reproducible from its seed on every platform. Encodes as its
/// four state words in hexadecimal (exact in any JSON reader), so a checkpoint continues the
/// exact stream.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable, Codable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The raw state, for checkpoints.
    public var state: [UInt64] { [s.0, s.1, s.2, s.3] }

    /// Restores a state captured with `state`.
    public init(state: [UInt64]) {
        precondition(state.count == 4)
        s = (state[0], state[1], state[2], state[3])
    }

    /// Reads the four state words (refusing any other count, or the all-zero state xoshiro
    /// never leaves).
    public init(from decoder: Decoder) throws {
        let words = try [String](from: decoder).compactMap { UInt64($0, radix: 16) }
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a random generator state is 4 words, not all zero"))
        }
        self.init(state: words)
    }

    /// Writes the four state words.
    public func encode(to encoder: Encoder) throws {
        try state.map { String($0, radix: 16) }.encode(to: encoder)
    }

    /// Same state.
    public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool { a.state == b.state }

    /// Next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<bound.
    public mutating func below(_ bound: Int) -> Int { Int(next(upperBound: UInt64(bound))) }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        var u1 = uniform()
        while u1 <= .leastNonzeroMagnitude { u1 = uniform() }
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

extension Tensor {
    /// A tensor of N(0, std²) samples drawn from `rng`.
    public static func randn(_ shape: [Int], std: Float = 1, rng: inout RandomGenerator,
                             requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        for i in 0..<t.count { t.data[i] = Float(rng.normal()) * std }
        return t
    }
}
