namespace Lasthope.Core.Storage;

/// <summary>
/// Opens the store of one backend, the one that <c>Lasthope:Storage:Backend</c> names. Each store registers its own
/// factory (<c>AddSqliteEventStore</c>, <c>AddPostgresEventStore</c>); the server picks the configured one and fails to
/// start, saying which backends it knows, when none matches. Every store is also the model store.
/// </summary>
public interface IEventStoreFactory
{
    /// <summary>The backend's name in configuration (sqlite, memory, postgres).</summary>
    string Backend { get; }

    /// <summary>
    /// Opens the store. With <paramref name="createIfMissing"/> false (tools that only read), a store that does not
    /// exist is a <see cref="StoreNotFoundException"/> and nothing is created.
    /// </summary>
    IEventStore Open(bool createIfMissing);
}

/// <summary>The in-process store as a backend ("memory"): nothing survives the process.</summary>
public sealed class InMemoryEventStoreFactory : IEventStoreFactory
{
    public string Backend => "memory";

    public IEventStore Open(bool createIfMissing) => new InMemoryEventStore();
}
