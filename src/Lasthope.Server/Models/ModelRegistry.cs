using System.Collections.Immutable;
using System.Diagnostics;
using Lasthope.Core.Storage;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.State;
using Lasthope.Server.Telemetry;
using Lasthope.Trees;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Models;

/// <summary>A model ready to serve: the parsed trees and how its columns are filled on its surface.</summary>
public sealed class LoadedModel(ModelRecord record, TreeModel model, FeatureBinding binding)
{
    /// <summary>What the store knows of it (without the file's bytes).</summary>
    public ModelRecord Record { get; } = record with { Content = [] };

    public TreeModel Model { get; } = model;

    public FeatureBinding Binding { get; } = binding;

    public string Version => Record.Version;
}

/// <summary>A model file or its registration was refused; the message says why.</summary>
public sealed class ModelRejectedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Versioned models: registration (parse, check the features against the surface, save), and activation (load, warm
/// up, then swap atomically). A request reads the active model once, at its start, and finishes on that model even if
/// another is activated meanwhile: the swap replaces an immutable map, it never changes a model in place.
/// </summary>
public sealed partial class ModelRegistry
{
    private const int WarmUpRankings = 16;
    private readonly IModelStore _store;
    private readonly ServingOptions _serving;
    private readonly RecentRankings _recent;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _activation = new();
    private ImmutableDictionary<string, LoadedModel> _active = ImmutableDictionary.Create<string, LoadedModel>(StringComparer.Ordinal);
    private ImmutableDictionary<(string Surface, string Version), LoadedModel> _loaded = ImmutableDictionary<(string, string), LoadedModel>.Empty;

    public ModelRegistry(IModelStore store, ServingOptions serving, RecentRankings recent, TimeProvider time, ILogger logger)
    {
        _store = store;
        _serving = serving;
        _recent = recent;
        _time = time;
        _logger = logger;
    }

    /// <summary>Surface to active model.</summary>
    public IReadOnlyDictionary<string, LoadedModel> ActiveModels => Volatile.Read(ref _active);

    /// <summary>The active model of <paramref name="surface"/>, or null when the heuristic is its policy.</summary>
    public LoadedModel? Active(string surface) => Volatile.Read(ref _active).GetValueOrDefault(surface);

    /// <summary>Loads the active model of every surface from the store (at start).</summary>
    public async Task LoadActiveAsync(CancellationToken cancellationToken)
    {
        foreach (var (surface, version) in await _store.GetActiveModelsAsync(cancellationToken))
        {
            if ((await _store.FindModelAsync(version, cancellationToken))?.Kind is "als" or ModelKinds.Predictor)
            {
                continue; // a recommender or a predictor: their registries load them
            }

            try
            {
                var model = await GetAsync(surface, version, cancellationToken) ?? throw new ModelRejectedException($"the store has no model '{version}'");
                Swap(surface, model);
            }
            catch (ModelRejectedException e)
            {
                // The surface serves the heuristic and says no_model / the reason in the log; it never stops the server.
                LogActiveModelUnusable(_logger, surface, version, e.Message);
            }
        }
    }

    /// <summary>A model by version, bound to <paramref name="surface"/>'s features; loaded from the store on first use.</summary>
    public async Task<LoadedModel?> GetAsync(string surface, string version, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _loaded).TryGetValue((surface, version), out var loaded))
        {
            return loaded;
        }

        var record = await _store.FindModelAsync(version, cancellationToken);
        if (record is null)
        {
            return null;
        }

        if (record.Kind is "als" or ModelKinds.Predictor)
        {
            throw new ModelRejectedException($"Model '{version}' is {(record.Kind == "als" ? "an ALS recommender" : "a predictor")}, not a re-ranker.");
        }

        loaded = Bind(record, Parse(record.Content), surface);
        ImmutableInterlocked.TryAdd(ref _loaded, (surface, version), loaded);
        return loaded;
    }

    /// <summary>
    /// Registers a LightGBM text or XGBoost JSON model for <paramref name="surface"/>. Throws
    /// <see cref="ModelRejectedException"/> when the file cannot be loaded, its features do not match the surface's
    /// feature set, or the version exists.
    /// </summary>
    public async Task<ModelRecord> RegisterAsync(byte[] content, string surface, ModelMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(metadata);
        var model = Parse(content);
        var now = _time.GetUtcNow();
        var generated = $"{surface}-{now:yyyyMMdd-HHmmss}-{model.Fingerprint.Split(':')[^1][..8]}";
        var version = metadata.Version ?? generated;
        var record = new ModelRecord
        {
            Version = version,
            Surface = surface,
            Kind = model.Format == ModelFormat.XGBoostJson ? "xgboost" : "lightgbm",
            FeatureNames = model.FeatureNames,
            Fingerprint = model.Fingerprint,
            Parameters = metadata.Parameters,
            TrainedFrom = metadata.TrainedFrom,
            TrainedTo = metadata.TrainedTo,
            Metrics = metadata.Metrics,
            RegisteredAt = now,
            Content = content,
        };
        var loaded = Bind(record, model, surface);
        for (var attempt = 2; ; attempt++)
        {
            try
            {
                await _store.SaveModelAsync(record, cancellationToken);
                break;
            }
            catch (InvalidOperationException) when (metadata.Version is null && attempt <= 100)
            {
                // The same file registered twice within a second (a retraining that reproduced its model): the
                // generated name takes a suffix; a name the caller chose is never changed.
                version = $"{generated}-{attempt}";
                record = record with { Version = version };
                loaded = Bind(record, model, surface);
            }
            catch (InvalidOperationException e)
            {
                throw new ModelRejectedException($"Model version '{version}' exists already; give another --version.", e);
            }
        }

        ImmutableInterlocked.TryAdd(ref _loaded, (surface, version), loaded);
        return loaded.Record;
    }

    /// <summary>
    /// Makes <paramref name="version"/> the active model of <paramref name="surface"/>: loads it, warms it up on recent
    /// requests of the surface (their logged features), swaps it in atomically, and persists the choice. Returns the
    /// warm-up time. <paramref name="version"/> null deactivates (the heuristic serves).
    /// </summary>
    public async Task<TimeSpan> ActivateAsync(string surface, string? version, CancellationToken cancellationToken)
    {
        if (version is null)
        {
            await _store.SetActiveModelAsync(surface, null, cancellationToken);
            lock (_activation)
            {
                Volatile.Write(ref _active, _active.Remove(surface));
            }

            return TimeSpan.Zero;
        }

        var model = await GetAsync(surface, version, cancellationToken) ?? throw new ModelRejectedException($"No model '{version}' is registered.");
        var started = Stopwatch.GetTimestamp();
        WarmUp(surface, model);
        var warmUp = Stopwatch.GetElapsedTime(started);
        await _store.SetActiveModelAsync(surface, version, cancellationToken);
        Swap(surface, model);
        return warmUp;
    }

    private void Swap(string surface, LoadedModel model)
    {
        lock (_activation)
        {
            Volatile.Write(ref _active, _active.SetItem(surface, model));
        }
    }

    /// <summary>Scores the logged feature rows of recent requests (or one block of missing values) before serving.</summary>
    private void WarmUp(string surface, LoadedModel model)
    {
        var columns = model.Binding.Count;
        var rows = new List<double[]>();
        foreach (var ranking in _recent.WithFeatures(surface, WarmUpRankings))
        {
            var log = ranking.Features!;
            var map = log.ColumnsOf(model.Binding.Names);
            for (var r = 0; r < log.ItemIds.Count; r++)
            {
                var row = new double[columns];
                log.CopyRow(r, map, row);
                rows.Add(row);
            }
        }

        if (rows.Count == 0)
        {
            rows.AddRange(Enumerable.Range(0, TreeModel.ScoringBlockSize).Select(_ => Enumerable.Repeat(double.NaN, columns).ToArray()));
        }

        var matrix = rows.SelectMany(r => r).ToArray();
        var scores = new double[rows.Count];
        model.Model.WarmUp(matrix, scores);
    }

    private LoadedModel Bind(ModelRecord record, TreeModel model, string surface)
    {
        try
        {
            return new LoadedModel(record, model, FeatureBinding.Create(model.FeatureNames, surface, _serving.Surface(surface)));
        }
        catch (FeatureMismatchException e)
        {
            throw new ModelRejectedException(e.Message, e);
        }
    }

    private static TreeModel Parse(byte[] content)
    {
        try
        {
            var model = TreeModel.Parse(content);

            // A re-ranker orders items by one score; a multiclass model has one per class.
            return model.ClassCount == 1
                ? model
                : throw new ModelRejectedException($"A multiclass model ({model.ClassCount} classes) cannot re-rank: a re-ranker needs one score per item.");
        }
        catch (ModelLoadException e)
        {
            throw new ModelRejectedException($"The model file cannot be loaded: {e.Message}", e);
        }
    }


    [LoggerMessage(EventId = LogEvents.ActiveModelUnusable, Level = LogLevel.Error, Message = "The active model {Version} of surface {Surface} cannot serve; the heuristic serves the surface: {Reason}")]
    private static partial void LogActiveModelUnusable(ILogger logger, string surface, string version, string reason);
}

/// <summary>What is known of a model when it is registered. All optional.</summary>
public sealed record ModelMetadata(string? Version = null, string? Parameters = null, DateTimeOffset? TrainedFrom = null, DateTimeOffset? TrainedTo = null, string? Metrics = null);
