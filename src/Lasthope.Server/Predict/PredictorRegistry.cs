using Lasthope.Core.Storage;
using Lasthope.Server.Models;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Predict;

/// <summary>
/// Registered predictors and which version of each name serves <c>/v1/predict/{name}</c>: kind <c>predictor</c> in the
/// model store, the active version under <c>predictor:NAME</c> (see <see cref="PackageRegistry{T}"/>).
/// </summary>
public sealed class PredictorRegistry(IModelStore store, TimeProvider time, ILogger<PredictorRegistry> logger)
    : PackageRegistry<Predictor>(ModelKinds.Predictor, store, time, logger)
{
    /// <summary>The active predictors, by name.</summary>
    public IReadOnlyDictionary<string, Predictor> ActivePredictors => ActivePackages;

    public override bool Recognises(ReadOnlySpan<byte> content) => PredictorPackage.IsPackage(content);

    protected override string NameOf(byte[] content) => Refusing(() => PredictorPackage.Parse(content).Name);

    protected override Predictor Load(byte[] content, string version) => Refusing(() => Predictor.Load(PredictorPackage.Parse(content), version));

    protected override IReadOnlyList<string> FeatureNamesOf(Predictor package) => [.. package.Package.Features.Select(f => f.Name)];

    /// <summary>One row of missing values through the model (with its counterfactual search) and the fallback.</summary>
    protected override void WarmUp(Predictor package)
    {
        var row = Enumerable.Repeat(double.NaN, package.FeatureCount).ToArray();
        package.Predict(row, PredictionSource.Model, 5, counterfactual: true);
        package.Predict(row, PredictionSource.Fallback, 5, counterfactual: false);
    }

    private static TResult Refusing<TResult>(Func<TResult> load)
    {
        try
        {
            return load();
        }
        catch (PredictorPackageException e)
        {
            throw new ModelRejectedException(e.Message, e);
        }
    }
}
