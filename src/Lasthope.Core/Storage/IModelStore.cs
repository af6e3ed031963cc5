namespace Lasthope.Core.Storage;

/// <summary>A registered model: the file as trained, and what is known of it.</summary>
public sealed record ModelRecord
{
    /// <summary>Unique version name, for example "home-20261129-0a1b2c3d".</summary>
    public required string Version { get; init; }

    /// <summary>The surface it was registered for.</summary>
    public required string Surface { get; init; }

    /// <summary>"lightgbm", "xgboost" (gradient-boosted trees) or "als" (the recommender).</summary>
    public required string Kind { get; init; }

    /// <summary>The model's feature names, in column order.</summary>
    public required IReadOnlyList<string> FeatureNames { get; init; }

    /// <summary>Content hash of the file.</summary>
    public required string Fingerprint { get; init; }

    /// <summary>Training parameters as JSON, when known.</summary>
    public string? Parameters { get; init; }

    /// <summary>The event-time window of the training data, when known.</summary>
    public DateTimeOffset? TrainedFrom { get; init; }

    public DateTimeOffset? TrainedTo { get; init; }

    /// <summary>Offline metrics as JSON (for example NDCG@10 with its interval), when known.</summary>
    public string? Metrics { get; init; }

    public required DateTimeOffset RegisteredAt { get; init; }

    /// <summary>The model file's bytes.</summary>
    public required byte[] Content { get; init; }
}

/// <summary>Versioned models and which one is active per surface. The embedded store implements it too.</summary>
public interface IModelStore
{
    /// <summary>Saves a model. A version that exists already is an error (<see cref="InvalidOperationException"/>).</summary>
    Task SaveModelAsync(ModelRecord model, CancellationToken cancellationToken = default);

    Task<ModelRecord?> FindModelAsync(string version, CancellationToken cancellationToken = default);

    /// <summary>Every model, without content, newest first.</summary>
    Task<IReadOnlyList<ModelRecord>> ListModelsAsync(CancellationToken cancellationToken = default);

    /// <summary>Makes <paramref name="version"/> the active model of <paramref name="surface"/> (null: none).</summary>
    Task SetActiveModelAsync(string surface, string? version, CancellationToken cancellationToken = default);

    /// <summary>Surface to active version.</summary>
    Task<IReadOnlyDictionary<string, string>> GetActiveModelsAsync(CancellationToken cancellationToken = default);
}

/// <summary>The kinds of <see cref="ModelRecord.Kind"/> that are not tree re-rankers, each loaded by its own registry.</summary>
public static class ModelKinds
{
    /// <summary>An ALS recommender (Lasthope's binary format).</summary>
    public const string Als = "als";

    /// <summary>A predictor package (a tabular model with its inputs, decision, reasons and fallback).</summary>
    public const string Predictor = "predictor";

    /// <summary>A text model package (a TF-IDF baseline and a sentence-encoder head).</summary>
    public const string Text = "text";

    /// <summary>An edit-need model package (trees over text features and encoder vectors).</summary>
    public const string EditNeed = "edit-need";
}
