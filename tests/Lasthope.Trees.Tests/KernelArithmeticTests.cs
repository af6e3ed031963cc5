using CsCheck;
using Lasthope.Trees.Evaluation;

namespace Lasthope.Trees.Tests;

/// <summary>
/// The number tricks the kernels' exactness rests on, as properties over all kinds of doubles and floats
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
    public void FloatInputs_WidenedToDouble_KeepTheirOrder()
    {
        // Float inputs are widened to double before they become keys (as LightGBM compares them); the widening is exact.
        Gen.Select(AnyFloat, AnyFloat).Where(p => !float.IsNaN(p.Item1) && !float.IsNaN(p.Item2)).Sample((a, b) =>
            (a <= b) == (OrderKey.Of((double)a) <= OrderKey.Of((double)b)), iter: 20_000);
    }

    [Fact]
    public void NaN_HasTheLargestKey_SoItGoesRightAtEveryThreshold()
    {
        AnyDouble.Where(t => !double.IsNaN(t)).Sample(t => OrderKey.Of(double.NaN) > OrderKey.Of(t), iter: 5_000);
    }

    [Fact]
    public void KeysDecodeToTheirValues_SoCategoricalNodesSeeTheInput()
    {
        // A categorical node reads its value back from the key: every value but -0 (which is 0 to a category) returns.
        AnyDouble.Sample(x =>
        {
            var back = ForestKernels.ValueOf(OrderKey.Of(x));
            return x == 0 ? back == 0 : back.Equals(x);
        }, iter: 20_000);
        Assert.True(double.IsNaN(ForestKernels.ValueOf(OrderKey.Of(double.NaN))));
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
