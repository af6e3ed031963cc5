using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// How a raw feature value becomes the value a node compares. LightGBM's rule (tree.h, NumericalDecision) branches on
/// the node's missing type and default direction; the evaluator moves that branching out of the trees: each distinct
/// (feature, missing type, default direction) used by the model gets a "slot" whose value is computed once per
/// document, with missing values replaced by -inf (go left at every threshold) or NaN (go right at every threshold,
/// since the node's test <c>x &lt;= threshold</c> is false for NaN). Every node then does that one comparison, with no
/// special cases, and real infinities in the input or in thresholds (LightGBM writes <c>inf</c> for "every value but
/// the missing ones") compare as LightGBM compares them.
/// </summary>
internal enum SlotKind : byte
{
    /// <summary>Missing type None: NaN counts as 0; |x| &lt;= 1e-35 is 0 (LightGBM's predictor drops such values).</summary>
    Plain,

    /// <summary>Missing type Zero, default left: NaN and |x| &lt;= 1e-35 go left.</summary>
    ZeroLeft,

    /// <summary>Missing type Zero, default right.</summary>
    ZeroRight,

    /// <summary>Missing type NaN, default left: NaN goes left, |x| &lt;= 1e-35 is 0.</summary>
    NaNLeft,

    /// <summary>Missing type NaN, default right.</summary>
    NaNRight,

    /// <summary>XGBoost, default left: NaN goes left, other values are rounded to float.</summary>
    FloatLeft,

    /// <summary>XGBoost, default right.</summary>
    FloatRight,

    /// <summary>Categorical: the raw value; the node does its own bitset test.</summary>
    Raw,
}

/// <summary>One slot transform, specialised per kind through static abstract members so each loop is branch-free.</summary>
internal interface ISlotTransform
{
    static abstract T Apply<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>;

    /// <summary>The same transform on a vector of documents' values, without branches.</summary>
    static abstract Vector256<T> Apply<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>;
}

internal static class SlotMath
{
    /// <summary>LightGBM's kZeroThreshold in T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Zero<T>()
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? (T)(object)1e-35f : (T)(object)(double)1e-35f;

    /// <summary>x if |x| &gt; 1e-35, else <paramref name="otherwise"/>; NaN gives <paramref name="otherwise"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T NonZeroOr<T>(T x, T otherwise)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => T.Abs(x) > Zero<T>() ? x : otherwise;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> NonZeroOr<T>(Vector256<T> x, Vector256<T> otherwise)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Abs(x), Vector256.Create(Zero<T>())), x, otherwise);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> NaNOr<T>(Vector256<T> x, Vector256<T> ifNaN, Vector256<T> otherwise)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        Vector256.ConditionalSelect(Vector256.Equals(x, x), otherwise, ifNaN);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> RoundToFloat<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(double)
            ? Vector256.WidenLower(Vector256.Narrow(x.AsDouble(), x.AsDouble())).As<double, T>()
            : x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T RoundToFloat<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        typeof(T) == typeof(double) ? (T)(object)(double)(float)(double)(object)x : x;
}

internal readonly struct PlainTransform : ISlotTransform
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Apply<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NonZeroOr(x, Vector256<T>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NonZeroOr(x, T.Zero);
}

internal readonly struct ZeroLeftTransform : ISlotTransform
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Apply<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NonZeroOr(x, Vector256.Create(T.NegativeInfinity));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NonZeroOr(x, T.NegativeInfinity);
}

internal readonly struct ZeroRightTransform : ISlotTransform
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Apply<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NonZeroOr(x, Vector256.Create(T.NaN));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NonZeroOr(x, T.NaN);
}

internal readonly struct NaNLeftTransform : ISlotTransform
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Apply<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NaNOr(x, Vector256.Create(T.NegativeInfinity), SlotMath.NonZeroOr(x, Vector256<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => T.IsNaN(x) ? T.NegativeInfinity : SlotMath.NonZeroOr(x, T.Zero);
}

internal readonly struct NaNRightTransform : ISlotTransform
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Apply<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NaNOr(x, Vector256.Create(T.NaN), SlotMath.NonZeroOr(x, Vector256<T>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => T.IsNaN(x) ? T.NaN : SlotMath.NonZeroOr(x, T.Zero);
}

internal readonly struct FloatLeftTransform : ISlotTransform
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Apply<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NaNOr(x, Vector256.Create(T.NegativeInfinity), SlotMath.RoundToFloat(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => T.IsNaN(x) ? T.NegativeInfinity : SlotMath.RoundToFloat(x);
}

internal readonly struct FloatRightTransform : ISlotTransform
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Apply<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => SlotMath.NaNOr(x, Vector256.Create(T.NaN), SlotMath.RoundToFloat(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => T.IsNaN(x) ? T.NaN : SlotMath.RoundToFloat(x);
}

internal readonly struct RawTransform : ISlotTransform
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Apply<T>(Vector256<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Apply<T>(T x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> => x;
}
