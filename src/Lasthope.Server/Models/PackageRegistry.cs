using System.Collections.Immutable;
using System.Security.Cryptography;
using Lasthope.Core.Storage;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Models;

/// <summary>A model package loaded for serving: it names itself and knows its version.</summary>
public interface IServedPackage
{
    string Name { get; }

    string Version { get; }
}

/// <summary>
/// A registry of self-describing model packages (predictors, text models, edit-need models), as POST /v1/models,
/// activation and the warm start see it: each one recognises its own format by content.
/// </summary>
public interface IPackageRegistry
{
    /// <summary>The kind its records have in the model store.</summary>
    string Kind { get; }

    /// <summary>Whether the bytes are this registry's format (the first bytes are enough).</summary>
    bool Recognises(ReadOnlySpan<byte> content);

    /// <summary>Registers a package and, with <paramref name="activate"/>, serves it; <see cref="ModelRejectedException"/> when refused.</summary>
    Task<ModelRecord> RegisterAsync(byte[] content, ModelMetadata metadata, bool activate, CancellationToken cancellationToken);

    /// <summary>Makes a registered version the one its name serves; <see cref="ModelRejectedException"/> when it cannot serve.</summary>
    Task ActivateAsync(string version, CancellationToken cancellationToken);

    /// <summary>Loads the active version of every name (at start); one that cannot load is logged and skipped.</summary>
    Task LoadActiveAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The store-backed registry every package kind shares. Packages live in the model store (the kind given, the name
/// as the record's surface); the active version of a name is kept under the key <c>KIND:NAME</c>, so a package and a
/// surface may share a name. Loaded versions are kept in memory: the active ones, and at most
/// <see cref="MaxInactiveLoaded"/> others (candidates asked for by version), so that a client cycling through
/// registered versions cannot hold them all. Loads run one at a time, and an activation writes the store and swaps the
/// served version under one lock, so that the two cannot cross.
/// </summary>
public abstract partial class PackageRegistry<T> : IPackageRegistry, IDisposable
    where T : class, IServedPackage
{
    /// <summary>The most loaded versions kept beside the active ones.</summary>
    public const int MaxInactiveLoaded = 8;

    private readonly IModelStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _activation = new(1, 1);
    private readonly SemaphoreSlim _loading = new(1, 1);
    private ImmutableDictionary<string, T> _active = ImmutableDictionary.Create<string, T>(StringComparer.Ordinal);
    private ImmutableDictionary<string, T> _loaded = ImmutableDictionary.Create<string, T>(StringComparer.Ordinal);

    protected PackageRegistry(string kind, IModelStore store, TimeProvider time, ILogger logger)
    {
        Kind = kind;
        _store = store;
        _time = time;
        _logger = logger;
    }

    public string Kind { get; }

    /// <summary>The active packages, by name.</summary>
    public IReadOnlyDictionary<string, T> ActivePackages => Volatile.Read(ref _active);

    /// <summary>How many versions are loaded in memory (the active ones and at most <see cref="MaxInactiveLoaded"/> more).</summary>
    public int LoadedCount => Volatile.Read(ref _loaded).Count;

    /// <summary>The store's active-model key of name <paramref name="name"/>.</summary>
    public string ActiveKey(string name) => Kind + ":" + name;

    public T? Active(string name) => Volatile.Read(ref _active).GetValueOrDefault(name);

    public abstract bool Recognises(ReadOnlySpan<byte> content);

    /// <summary>The name a package's bytes give (<see cref="ModelRejectedException"/> when they are not a valid package).</summary>
    protected abstract string NameOf(byte[] content);

    /// <summary>Loads a package (<see cref="ModelRejectedException"/> for every reason it cannot serve).</summary>
    protected abstract T Load(byte[] content, string version);

    /// <summary>One answer through every path before it serves, so that the JIT is done; throws when it cannot answer.</summary>
    protected abstract void WarmUp(T package);

    public async Task LoadActiveAsync(CancellationToken cancellationToken)
    {
        var prefix = Kind + ":";
        foreach (var (key, version) in await _store.GetActiveModelsAsync(cancellationToken))
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                var package = await GetAsync(version, cancellationToken) ?? throw new ModelRejectedException($"the store has no {Kind} '{version}'");
                CheckedWarmUp(package);
                Swap(package);
            }
            catch (ModelRejectedException e)
            {
                LogUnusable(_logger, Kind, key[prefix.Length..], version, e.Message);
            }
        }
    }

    /// <summary>A package by version, loaded from the store on first use; null when there is none of this kind.</summary>
    public async Task<T?> GetAsync(string version, CancellationToken cancellationToken)
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

            var record = await _store.FindModelAsync(version, cancellationToken);
            if (record is null || record.Kind != Kind)
            {
                return null;
            }

            loaded = Load(record.Content, record.Version);
            Remember(loaded);
            return loaded;
        }
        finally
        {
            _loading.Release();
        }
    }

    public async Task<ModelRecord> RegisterAsync(byte[] content, ModelMetadata metadata, bool activate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(metadata);
        var name = NameOf(content);
        var fingerprint = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        var generated = $"{name}-{_time.GetUtcNow():yyyyMMdd-HHmmss}-{fingerprint[7..15]}";
        var record = new ModelRecord
        {
            Version = metadata.Version ?? generated,
            Surface = name,
            Kind = Kind,
            FeatureNames = [],
            Fingerprint = fingerprint,
            Parameters = metadata.Parameters,
            TrainedFrom = metadata.TrainedFrom,
            TrainedTo = metadata.TrainedTo,
            Metrics = metadata.Metrics,
            RegisteredAt = _time.GetUtcNow(),
            Content = content,
        };
        var package = Load(content, record.Version);
        record = record with { FeatureNames = FeatureNamesOf(package) };
        for (var attempt = 2; ; attempt++)
        {
            try
            {
                await _store.SaveModelAsync(record, cancellationToken);
                break;
            }
            catch (InvalidOperationException) when (metadata.Version is null && attempt <= 100)
            {
                record = record with { Version = $"{generated}-{attempt}" };
                package = Load(content, record.Version);
            }
            catch (InvalidOperationException e)
            {
                throw new ModelRejectedException($"Model version '{record.Version}' exists already; give another version.", e);
            }
        }

        Remember(package);
        if (activate)
        {
            await ActivateAsync(record.Version, cancellationToken);
        }

        return record with { Content = [] };
    }

    /// <summary>The input names a record lists for a package (none by default).</summary>
    protected virtual IReadOnlyList<string> FeatureNamesOf(T package) => [];

    async Task IPackageRegistry.ActivateAsync(string version, CancellationToken cancellationToken) => await ActivateAsync(version, cancellationToken);

    /// <summary>Makes a registered version the one its name serves (warmed up first, then swapped in).</summary>
    public async Task<T> ActivateAsync(string version, CancellationToken cancellationToken)
    {
        var package = await GetAsync(version, cancellationToken) ?? throw new ModelRejectedException($"No {Kind} '{version}' is registered.");
        CheckedWarmUp(package);
        await _activation.WaitAsync(cancellationToken);
        try
        {
            await _store.SetActiveModelAsync(ActiveKey(package.Name), version, cancellationToken);
            Swap(package);
        }
        finally
        {
            _activation.Release();
        }

        return package;
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _activation.Dispose();
            _loading.Dispose();
        }
    }

    private void CheckedWarmUp(T package)
    {
        try
        {
            WarmUp(package);
        }
        catch (Exception e) when (e is not (ModelRejectedException or OutOfMemoryException))
        {
            throw new ModelRejectedException($"The {Kind} failed its warm-up: {e.Message}", e);
        }
    }

    private void Swap(T package)
    {
        ImmutableInterlocked.Update(ref _active, active => active.SetItem(package.Name, package));
        Remember(package);
    }

    private void Remember(T package)
    {
        ImmutableInterlocked.Update(ref _loaded, loaded =>
        {
            var active = Volatile.Read(ref _active);
            var inactive = loaded.Keys.Where(v => !active.Values.Any(p => p.Version == v)).ToList();
            foreach (var version in inactive.Take(Math.Max(0, inactive.Count - MaxInactiveLoaded + 1)))
            {
                loaded = loaded.Remove(version);
            }

            return loaded.SetItem(package.Version, package);
        });
    }

    [LoggerMessage(EventId = LogEvents.ActivePredictorUnusable, Level = LogLevel.Error, Message = "The active version {Version} of {Kind} {Name} cannot serve, and is not served: {Reason}")]
    private static partial void LogUnusable(ILogger logger, string kind, string name, string version, string reason);
}
