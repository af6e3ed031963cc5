using System.Collections.Immutable;
using System.Diagnostics;
using Lasthope.Core.Storage;
using Lasthope.Factors;
using Lasthope.Server.Models;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Recommend;

/// <summary>An ALS model ready to serve.</summary>
public sealed class LoadedRecommender(ModelRecord record, AlsModel model)
{
    public ModelRecord Record { get; } = record with { Content = [] };

    public AlsModel Model { get; } = model;

    public string Version => Record.Version;

    /// <summary>Item indices by how many training users used them, most first (the cold-start list of last resort).</summary>
    public int[] PopularOrder => _popular.Value;

    private readonly Lazy<int[]> _popular = new(() =>
    {
        var counts = model.ItemUserCounts.ToArray();
        return [.. Enumerable.Range(0, counts.Length).Where(i => counts[i] > 0).OrderByDescending(i => counts[i]).ThenBy(i => i)];
    });
}

/// <summary>
/// ALS models in the same model store as the re-rankers (kind "als"): registration, and activation per surface with
/// an atomic swap, so that a request finishes on the model it started with.
/// </summary>
public sealed partial class RecommenderRegistry(IModelStore store, TimeProvider time, ILogger logger)
{
    private readonly Lock _gate = new();
    private ImmutableDictionary<string, LoadedRecommender> _active = ImmutableDictionary.Create<string, LoadedRecommender>(StringComparer.Ordinal);

    /// <summary>True when <paramref name="content"/> starts with the ALS model format's magic bytes.</summary>
    public static bool IsAlsModel(ReadOnlySpan<byte> content) => content.StartsWith(AlsModelFormat.Magic);

    public LoadedRecommender? Active(string surface) => Volatile.Read(ref _active).GetValueOrDefault(surface);

    public async Task LoadActiveAsync(CancellationToken cancellationToken)
    {
        foreach (var (surface, version) in await store.GetActiveModelsAsync(cancellationToken))
        {
            var record = await store.FindModelAsync(version, cancellationToken);
            if (record?.Kind != "als")
            {
                continue;
            }

            try
            {
                Swap(surface, new LoadedRecommender(record, Parse(record.Content)));
            }
            catch (ModelRejectedException e)
            {
                LogUnusable(logger, surface, version, e.Message);
            }
        }
    }

    /// <summary>Registers an ALS model file (Lasthope's binary format) for <paramref name="surface"/>.</summary>
    public async Task<ModelRecord> RegisterAsync(byte[] content, string surface, ModelMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var model = Parse(content);
        var now = time.GetUtcNow();
        var record = new ModelRecord
        {
            Version = metadata.Version ?? $"{surface}-{now:yyyyMMdd-HHmmss}-{model.Fingerprint:x8}",
            Surface = surface,
            Kind = "als",
            FeatureNames = [],
            Fingerprint = $"crc32c:{model.Fingerprint:x8}",
            Parameters = metadata.Parameters ?? System.Text.Json.JsonSerializer.Serialize(new
            {
                factors = model.Factors,
                regularization = model.Regularization,
                alpha = model.Training.Options.Alpha,
                iterations = model.Training.IterationsTrained,
                users = model.Users.Count,
                items = model.Items.Count,
            }),
            TrainedFrom = metadata.TrainedFrom,
            TrainedTo = metadata.TrainedTo,
            Metrics = metadata.Metrics,
            RegisteredAt = now,
            Content = content,
        };
        try
        {
            await store.SaveModelAsync(record, cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelRejectedException($"Model version '{record.Version}' exists already; give another version.", e);
        }

        return record;
    }

    /// <summary>Loads, warms up (one recommendation), swaps in atomically and persists. Returns the warm-up time.</summary>
    public async Task<TimeSpan> ActivateAsync(string surface, string version, CancellationToken cancellationToken)
    {
        var record = await store.FindModelAsync(version, cancellationToken) ?? throw new ModelRejectedException($"No model '{version}' is registered.");
        if (record.Kind != "als")
        {
            throw new ModelRejectedException($"Model '{version}' is a {record.Kind} model, not an ALS recommender.");
        }

        var model = Parse(record.Content);
        var started = Stopwatch.GetTimestamp();
        if (model.Users.Count > 0)
        {
            Span<ScoredItem> warm = stackalloc ScoredItem[10];
            model.Recommend(0, warm);
        }

        var warmUp = Stopwatch.GetElapsedTime(started);
        await store.SetActiveModelAsync(surface, version, cancellationToken);
        Swap(surface, new LoadedRecommender(record, model));
        return warmUp;
    }

    private void Swap(string surface, LoadedRecommender model)
    {
        lock (_gate)
        {
            Volatile.Write(ref _active, _active.SetItem(surface, model));
        }
    }

    private static AlsModel Parse(byte[] content)
    {
        try
        {
            using var stream = new MemoryStream(content, writable: false);
            return AlsModel.Load(stream);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or NotSupportedException or ArgumentException)
        {
            throw new ModelRejectedException($"The ALS model file cannot be loaded: {e.Message}", e);
        }
    }

    [LoggerMessage(EventId = LogEvents.ActiveRecommenderUnusable, Level = LogLevel.Error, Message = "The active recommender {Version} of surface {Surface} cannot serve; popularity serves it: {Reason}")]
    private static partial void LogUnusable(ILogger logger, string surface, string version, string reason);
}
