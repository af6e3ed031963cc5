using Lasthope.Core.Storage;

namespace Lasthope.Server.Hosting;

/// <summary>Opens the store of the configured backend among those registered; no silent fallback to another.</summary>
public static class StoreSelection
{
    /// <summary>
    /// The store of <paramref name="backend"/>. Throws <see cref="ArgumentException"/> naming the backends this build knows
    /// when none of <paramref name="factories"/> is it.
    /// </summary>
    public static IEventStore Open(IEnumerable<IEventStoreFactory> factories, string backend, bool createIfMissing)
    {
        ArgumentNullException.ThrowIfNull(factories);
        var known = factories.ToList();
        var factory = known.LastOrDefault(f => string.Equals(f.Backend, backend, StringComparison.Ordinal))
            ?? throw new ArgumentException(
                $"Storage:Backend '{backend}' is not available here; this build has {string.Join(", ", known.Select(f => f.Backend).Distinct().Order(StringComparer.Ordinal))}.",
                nameof(backend));
        return factory.Open(createIfMissing);
    }

    /// <summary>The store's model side. Every real store keeps models too; one that does not is refused, not replaced.</summary>
    public static IModelStore ModelStoreOf(IEventStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store as IModelStore ?? throw new ArgumentException($"The store '{store.Name}' keeps no models; Lasthope needs a store that does.", nameof(store));
    }

    /// <summary>The store's item catalog (the embedded stores keep one).</summary>
    public static IItemStore ItemStoreOf(IEventStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store as IItemStore ?? throw new ArgumentException($"The store '{store.Name}' keeps no item attributes; Lasthope needs a store that does.", nameof(store));
    }
}
