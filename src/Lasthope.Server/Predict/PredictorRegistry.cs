using System.Collections.Immutable;
using System.Security.Cryptography;
using Lasthope.Core.Storage;
using Lasthope.Server.Models;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Predict;

/// <summary>
/// Registered predictors and which version of each name serves <c>/v1/predict/{name}</c>. They live in the model store
/// beside the re-rankers (kind <c>predictor</c>, the name as the record's surface); the active version of a name is
/// kept under the key <c>predictor:NAME</c>, so a predictor and a surface may share a name.
/// </summary>
public sealed partial class PredictorRegistry(IModelStore store, TimeProvider time, ILogger<PredictorRegistry> logger) : IDisposable
{
    public const string Kind = ModelKinds.Predictor;

    /// <summary>The most loaded versions kept beside the active ones (candidates asked for by version).</summary>
    public const int MaxInactiveLoaded = 8;

    // One activation at a time, so that the store's active version and the one in memory cannot cross; one load at a
    // time, so that clients naming many versions queue for one parse rather than run many.
    private readonly SemaphoreSlim _activation = new(1, 1);
    private readonly SemaphoreSlim _loading = new(1, 1);
    private ImmutableDictionary<string, Predictor> _active = ImmutableDictionary.Create<string, Predictor>(StringComparer.Ordinal);
    private ImmutableDictionary<string, Predictor> _loaded = ImmutableDictionary.Create<string, Predictor>(StringComparer.Ordinal);

    /// <summary>The store's active-model key of predictor <paramref name="name"/>.</summary>
    public static string ActiveKey(string name) => "predictor:" + name;

    /// <summary>The active predictors, by name.</summary>
    public IReadOnlyDictionary<string, Predictor> ActivePredictors => Volatile.Read(ref _active);

    public Predictor? Active(string name) => Volatile.Read(ref _active).GetValueOrDefault(name);

    /// <summary>How many versions are loaded in memory (the active ones and at most <see cref="MaxInactiveLoaded"/> more).</summary>
    public int LoadedCount => Volatile.Read(ref _loaded).Count;

    /// <summary>Loads the active version of every predictor (at start); one that cannot load is logged and skipped.</summary>
    public async Task LoadActiveAsync(CancellationToken cancellationToken)
    {
        foreach (var (key, version) in await store.GetActiveModelsAsync(cancellationToken))
        {
            if (!key.StartsWith("predictor:", StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                var predictor = await GetAsync(version, cancellationToken) ?? throw new PredictorPackageException($"the store has no predictor '{version}'");
                WarmUp(predictor);
                Swap(predictor);
            }
            catch (PredictorPackageException e)
            {
                LogUnusable(logger, key["predictor:".Length..], version, e.Message);
            }
        }
    }

    /// <summary>A predictor by version, loaded from the store on first use; null when there is none.</summary>
    public async Task<Predictor?> GetAsync(string version, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _loaded).TryGetValue(version, out var loaded))
        {
            return loaded;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (Volatile.Read(ref _loaded).TryGetValue(version, out loaded))
            {
                return loaded;
            }

            var record = await store.FindModelAsync(version, cancellationToken);
            if (record is null || record.Kind != Kind)
            {
                return null;
            }

            loaded = Predictor.Load(PredictorPackage.Parse(record.Content), record.Version);
            Remember(loaded);
            return loaded;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>
    /// Keeps a loaded version for the next request that names it. The active ones are always kept; of the rest, at
    /// most <see cref="MaxInactiveLoaded"/> (the others are dropped, and parsed again when asked for), so that a client
    /// cycling through registered versions cannot hold them all in memory.
    /// </summary>
    private void Remember(Predictor predictor)
    {
        ImmutableInterlocked.Update(ref _loaded, loaded =>
        {
            var active = Volatile.Read(ref _active);
            var inactive = loaded.Keys.Where(v => !active.Values.Any(p => p.Version == v)).ToList();
            foreach (var version in inactive.Take(Math.Max(0, inactive.Count - MaxInactiveLoaded + 1)))
            {
                loaded = loaded.Remove(version);
            }

            return loaded.SetItem(predictor.Version, predictor);
        });
    }

    /// <summary>
    /// Registers a predictor package (<see cref="PredictorPackageException"/> when it is refused) and, with
    /// <paramref name="activate"/>, makes it the one its name serves.
    /// </summary>
    public async Task<ModelRecord> RegisterAsync(byte[] content, ModelMetadata metadata, bool activate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(metadata);
        var package = PredictorPackage.Parse(content);
        var fingerprint = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        var generated = $"{package.Name}-{time.GetUtcNow():yyyyMMdd-HHmmss}-{fingerprint[7..15]}";
        var record = new ModelRecord
        {
            Version = metadata.Version ?? generated,
            Surface = package.Name,
            Kind = Kind,
            FeatureNames = [.. package.Features.Select(f => f.Name)],
            Fingerprint = fingerprint,
            Parameters = metadata.Parameters,
            TrainedFrom = metadata.TrainedFrom,
            TrainedTo = metadata.TrainedTo,
            Metrics = metadata.Metrics,
            RegisteredAt = time.GetUtcNow(),
            Content = content,
        };
        var predictor = Predictor.Load(package, record.Version);
        for (var attempt = 2; ; attempt++)
        {
            try
            {
                await store.SaveModelAsync(record, cancellationToken);
                break;
            }
            catch (InvalidOperationException) when (metadata.Version is null && attempt <= 100)
            {
                record = record with { Version = $"{generated}-{attempt}" };
                predictor = Predictor.Load(package, record.Version);
            }
            catch (InvalidOperationException e)
            {
                throw new PredictorPackageException($"Model version '{record.Version}' exists already; give another version.", e);
            }
        }

        Remember(predictor);
        if (activate)
        {
            await ActivateAsync(record.Version, cancellationToken);
        }

        return record with { Content = [] };
    }

    /// <summary>Makes a registered predictor version the one its name serves (warmed up first, then swapped in).</summary>
    public async Task<Predictor> ActivateAsync(string version, CancellationToken cancellationToken)
    {
        var predictor = await GetAsync(version, cancellationToken) ?? throw new PredictorPackageException($"No predictor '{version}' is registered.");
        WarmUp(predictor);
        await _activation.WaitAsync(cancellationToken);
        try
        {
            await store.SetActiveModelAsync(ActiveKey(predictor.Name), version, cancellationToken);
            Swap(predictor);
        }
        finally
        {
            _activation.Release();
        }

        return predictor;
    }

    /// <summary>
    /// One row of missing values through every path, so that the JIT has compiled them before traffic; a predictor
    /// that cannot answer it is refused rather than served.
    /// </summary>
    private static void WarmUp(Predictor predictor)
    {
        var row = Enumerable.Repeat(double.NaN, predictor.FeatureCount).ToArray();
        try
        {
            predictor.Predict(row, PredictionSource.Model, 5, counterfactual: true);
            predictor.Predict(row, PredictionSource.Fallback, 5, counterfactual: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new PredictorPackageException($"The predictor failed its warm-up on a row of missing values: {e.Message}", e);
        }
    }

    private void Swap(Predictor predictor)
    {
        ImmutableInterlocked.Update(ref _active, active => active.SetItem(predictor.Name, predictor));
        Remember(predictor);
    }

    public void Dispose()
    {
        _activation.Dispose();
        _loading.Dispose();
    }

    [LoggerMessage(EventId = LogEvents.ActivePredictorUnusable, Level = LogLevel.Error, Message = "The active version {Version} of predictor {Name} cannot serve; /v1/predict/{Name} answers 404: {Reason}")]
    private static partial void LogUnusable(ILogger logger, string name, string version, string reason);
}
