using CsCheck;
using Lasthope.Trees.Evaluation;

namespace Lasthope.Trees.Tests;

/// <summary>
/// The two number tricks the kernel's exactness rests on, as properties over all kinds of doubles and floats
/// (negative, zero of both signs, subnormal, infinite).
/// </summary>
public sealed class KernelArithmeticTests
{
    private static readonly Gen<double> AnyDouble = Gen.OneOf(
        Gen.Double,
        Gen.Double[-10, 10],
        Gen.Const(0.0),
        Gen.Const(-0.0),
        Gen.Const(double.Epsilon),
        Gen.Const(-double.Epsilon),
        Gen.Const(double.PositiveInfinity),
        Gen.Const(double.NegativeInfinity),
        Gen.Const(1e-35f * 1.0));

    private static readonly Gen<float> AnyFloat = Gen.OneOf(
        Gen.Float,
        Gen.Float[-10, 10],
        Gen.Const(0f),
        Gen.Const(-0f),
        Gen.Const(float.Epsilon),
        Gen.Const(float.PositiveInfinity),
        Gen.Const(float.NegativeInfinity));

    [Fact]
    public void OrderKeys_CompareAsTheDoublesDo()
    {
        Gen.Select(AnyDouble, AnyDouble).Where(p => !double.IsNaN(p.Item1) && !double.IsNaN(p.Item2)).Sample((a, b) =>
            (a <= b) == (OrderKey.Of(a) <= OrderKey.Of(b)), iter: 20_000);
    }

    [Fact]
    public void OrderKeys_CompareAsTheFloatsDo()
    {
        Gen.Select(AnyFloat, AnyFloat).Where(p => !float.IsNaN(p.Item1) && !float.IsNaN(p.Item2)).Sample((a, b) =>
            (a <= b) == (OrderKey.Of(a) <= OrderKey.Of(b)), iter: 20_000);
    }

    [Fact]
    public void NaN_HasTheLargestKey_SoItGoesRightAtEveryThreshold()
    {
        AnyDouble.Where(t => !double.IsNaN(t)).Sample(t => OrderKey.Of(double.NaN) > OrderKey.Of(t), iter: 5_000);
    }

    [Fact]
    public void FloatThreshold_GivesTheDoubleComparison_ForEveryFloatInput()
    {
        // x <= t in double equals x <= FloatAtOrBelow(t) in float, for every float x and double t.
        Gen.Select(AnyFloat, AnyDouble).Where(p => !float.IsNaN(p.Item1) && !double.IsNaN(p.Item2)).Sample((x, t) =>
            (x <= t) == (x <= CompiledForest.FloatAtOrBelow(t)), iter: 20_000);
        Gen.Float[-10, 10].Sample(x =>
        {
            // Thresholds a hair above and below a float input: the cases a plain (float)t rounding gets wrong.
            var above = x + (Math.Abs(x) * 1e-12) + 1e-300;
            var below = x - (Math.Abs(x) * 1e-12) - 1e-300;
            return (x <= above) == (x <= CompiledForest.FloatAtOrBelow(above)) && (x <= below) == (x <= CompiledForest.FloatAtOrBelow(below));
        }, iter: 20_000);
    }

    [Fact]
    public void VectorKeys_EqualScalarKeys()
    {
        Gen.Double.Array[4].Sample(values =>
        {
            var keys = OrderKey.Of(System.Runtime.Intrinsics.Vector256.Create(values));
            return Enumerable.Range(0, 4).All(i => keys[i] == OrderKey.Of(values[i]));
        }, iter: 2_000);
    }
}
