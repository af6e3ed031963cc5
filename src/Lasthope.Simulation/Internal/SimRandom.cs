using System.Numerics;
using System.Runtime.CompilerServices;

namespace Lasthope.Simulation.Internal;

/// <summary>
/// xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number generators", 2021; reference code at
/// https://prng.di.unimi.it/xoshiro256starstar.c), seeded through SplitMix64 as its authors recommend. A struct, so a
/// request's generator costs no allocation, and a fixed algorithm, so streams do not change with the runtime's
/// <see cref="Random"/> implementation.
/// </summary>
internal struct SimRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public SimRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform on [0, <paramref name="n"/>), unbiased (Lemire, "Fast random integer generation in an interval", 2019).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NextInt(int n)
    {
        var bound = (uint)n;
        var m = (ulong)(uint)(NextUInt64() >> 32) * bound;
        var low = (uint)m;
        if (low < bound)
        {
            var threshold = (0u - bound) % bound;
            while (low < threshold)
            {
                m = (ulong)(uint)(NextUInt64() >> 32) * bound;
                low = (uint)m;
            }
        }

        return (int)(m >> 32);
    }

    /// <summary>Standard normal by Box-Muller (one of the pair is discarded: simpler state, and speed does not matter here).</summary>
    public double NextGaussian()
    {
        var u1 = 1.0 - NextDouble();
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Exponential with the given mean.</summary>
    public double NextExponential(double mean) => -mean * Math.Log(1.0 - NextDouble());

    public static ulong SplitMix(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// The independent random streams of a simulation. Every random quantity is drawn from a generator keyed by
/// (seed, stream, a, b), never from a shared generator, so that it is a pure function of its key and not of the order
/// in which callers ask.
/// </summary>
internal enum Stream : ulong
{
    World = 1,
    Item = 2,
    Affinity = 3,
    User = 4,
    Request = 5,
    Clicks = 6,
    PlayerInstalls = 7,
    Player = 8,
    PlayerActivity = 9,
}

internal static class Keys
{
    public static ulong Of(int seed, Stream stream, long a = 0, long b = 0)
    {
        var x = (ulong)(uint)seed;
        var h = SimRandom.SplitMix(ref x);
        x = h ^ (ulong)stream;
        h = SimRandom.SplitMix(ref x);
        x = h ^ (ulong)a;
        h = SimRandom.SplitMix(ref x);
        x = h ^ (ulong)b;
        return SimRandom.SplitMix(ref x);
    }

    public static SimRandom Random(int seed, Stream stream, long a = 0, long b = 0) => new(Of(seed, stream, a, b));
}
