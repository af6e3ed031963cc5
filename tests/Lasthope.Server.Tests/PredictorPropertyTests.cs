using CsCheck;
using Lasthope.Server.Predict;
using Lasthope.Trees.Native;

namespace Lasthope.Server.Tests;

/// <summary>
/// Properties of every explanation a predictor gives, over generated rows (any number, missing values, every category
/// and codes no category has): the contributions plus the base value equal the raw score within 1e-9, for the model
/// (exact TreeSHAP) and for the scorecard fallback, for binary, regression and multiclass predictors; and the model's
/// raw scores equal lib_lightgbm's bit for bit.
/// </summary>
public sealed class PredictorPropertyTests
{
    private static readonly Gen<double[]> Rows = Gen.Select(
        Gen.OneOf(Gen.Double[-1e6, 1e6], Gen.Double[0, 100], Gen.Const(double.NaN)),
        Gen.OneOf(Gen.Int[0, 72].Select(i => (double)i), Gen.Const(double.NaN), Gen.Double[-5, 80]),
        Gen.OneOf(Gen.Int[0, 4].Select(i => (double)i), Gen.Const(double.NaN)),
        Gen.OneOf(Gen.Int[0, 2].Select(i => (double)i), Gen.Const(double.NaN)))
        .Select((a, b, c, d) => new[] { a, b, c, d });

    public static TheoryData<string> Tasks => ["binary", "regression", "multiclass"];

    private static PredictorPackage Package(string task) => task switch
    {
        "binary" => TestPredictors.Binary(),
        "regression" => TestPredictors.Regression(),
        _ => TestPredictors.Multiclass(),
    };

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Contributions_PlusTheBaseValue_EqualTheRawScore_ForTheModelAndTheFallback(string task)
    {
        var predictor = new Predictor(Package(task), "v1");
        using var booster = LightGbmBooster.FromString(predictor.Package.Model);
        Rows.Sample(row =>
        {
            var expected = booster.Predict(row, 1, 4, LightGbmPrediction.RawScore);
            foreach (var source in new[] { PredictionSource.Model, PredictionSource.Fallback })
            {
                var p = predictor.Predict(row, source, reasons: 20, counterfactual: false);
                var sum = p.BaseValue + p.Reasons.Sum(r => r.Contribution);
                if (Math.Abs(sum - p.RawScore) > 1e-9)
                {
                    return false;
                }

                if (source == PredictionSource.Model && BitConverter.DoubleToInt64Bits(p.RawScore) != BitConverter.DoubleToInt64Bits(expected[p.ExplainedClass]))
                {
                    return false;
                }
            }

            return true;
        }, iter: 2_000);
    }

    [Fact]
    public void CategoricalContributions_OfTheScorecard_AreZeroOnAverageOverTheTrainingShares()
    {
        // The Shapley value of a linear term is its deviation from its expectation: weighted by the shares the
        // scorecard was fitted on (north 0.2, west 0.25, the rest 0.55 at weight 0), a category's contributions average to 0.
        var predictor = new Predictor(TestPredictors.Binary(), "v1");
        double Contribution(double region)
        {
            var p = predictor.Predict([50, 24, region, 1], PredictionSource.Fallback, 20, false);
            return p.Reasons.FirstOrDefault(r => r.Feature == "region")?.Contribution ?? 0;
        }

        var mean = 0.2 * Contribution(0) + 0.25 * Contribution(3) + 0.55 * Contribution(1);
        Assert.Equal(0, mean, 1e-12);
    }
}
