using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// Maps floating-point numbers to integers of the same order, so the kernel compares integers: one cycle instead of
/// a floating compare's three on the dependency chain, and a result the JIT can select with <c>cmov</c>.
/// <para>
/// For IEEE 754 values the bit pattern, read as a sign-magnitude integer, is in the numbers' order. Flipping the
/// magnitude bits of negative values turns sign-magnitude into two's complement order: key(a) &lt; key(b) exactly when
/// a &lt; b, for all non-NaN values including infinities. -0.0 is first made +0.0 (adding +0.0 does that) so that the
/// two zeros, equal as numbers, get one key. NaN, which the slot transforms use for "go right at every node", becomes
/// the largest integer, above every threshold's key (thresholds are never NaN).
/// </para>
/// </summary>
internal static class OrderKey
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Of(double value)
    {
        if (double.IsNaN(value))
        {
            return long.MaxValue;
        }

        var bits = BitConverter.DoubleToInt64Bits(value + 0.0);
        return bits ^ ((bits >> 63) & long.MaxValue);
    }

    /// <summary>Keys of four doubles at once, without branches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<long> Of(Vector256<double> values)
    {
        var bits = (values + Vector256<double>.Zero).AsInt64();
        var keys = bits ^ (Vector256.ShiftRightArithmetic(bits, 63) & Vector256.Create(long.MaxValue));
        return Vector256.ConditionalSelect(Vector256.Equals(values, values).AsInt64(), keys, Vector256.Create(long.MaxValue));
    }
}
