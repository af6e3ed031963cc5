using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace Lasthope.Server.Cascade;

/// <summary>
/// The one hash behind every deterministic choice of the server (experiment arms, fault injection): XxHash3 (64 bits,
/// seeded) of the UTF-8 of a domain and a key, mapped to a uniform number in [0, 1). XxHash3's output is specified
/// and stable across platforms and versions (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), so a
/// user keeps their arm across restarts, machines and releases; a golden test pins it.
/// </summary>
public static class StableHash
{
    /// <summary>A uniform number in [0, 1) for <paramref name="key"/> in <paramref name="domain"/> (a salt, a stage name).</summary>
    public static double Uniform(string key, string domain, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(domain);

        // domain, 0xFF (a byte no UTF-8 text holds, so no two (domain, key) pairs give the same bytes), key.
        var length = Encoding.UTF8.GetByteCount(domain) + 1 + Encoding.UTF8.GetByteCount(key);
        byte[]? rented = null;
        var bytes = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            var at = Encoding.UTF8.GetBytes(domain, bytes);
            bytes[at++] = 0xFF;
            Encoding.UTF8.GetBytes(key, bytes[at..]);
            return (XxHash3.HashToUInt64(bytes, seed) >> 11) * (1.0 / (1UL << 53)); // the top 53 bits: every double in [0, 1) of that grid
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
