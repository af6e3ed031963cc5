using Lasthope.Core.Events;

namespace Lasthope.Server.State;

/// <summary>
/// What replicas share beyond the store, for speed: recent rankings (so that a click received by one replica attributes
/// to a ranking another served, before the log has it) and users' segments. It is only ever a shortcut: every lookup
/// falls back to the store, and a shared state that is slow or down costs a note, never an answer.
/// </summary>
public interface ISharedState
{
    /// <summary>A short name for status and notes ("redis"; "none" when nothing is shared).</summary>
    string Name { get; }

    /// <summary>
    /// Shares a served ranking and, when <paramref name="userId"/> is given, its segment as the user's. Never blocks and
    /// never throws: when the shared state is down it is skipped. It takes the ranking as served, so that nothing is
    /// built for it on the request path when nothing is shared.
    /// </summary>
    void Publish(RankingLog ranking, string? userId);

    /// <summary>The served list of <paramref name="requestId"/>, or null. Throws <see cref="SharedStateUnavailableException"/>.</summary>
    Task<ServedList?> FindRankingAsync(string requestId, CancellationToken cancellationToken);

    /// <summary>The segment a user was last served in, or null. Throws <see cref="SharedStateUnavailableException"/>.</summary>
    Task<string?> FindSegmentAsync(string userId, CancellationToken cancellationToken);
}

/// <summary>Nothing shared: one server, or replicas that share only the store.</summary>
public sealed class NoSharedState : ISharedState
{
    public string Name => "none";

    public void Publish(RankingLog ranking, string? userId)
    {
    }

    public Task<ServedList?> FindRankingAsync(string requestId, CancellationToken cancellationToken) => Task.FromResult<ServedList?>(null);

    public Task<string?> FindSegmentAsync(string userId, CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}

/// <summary>The shared state did not answer (down, or slower than its timeout).</summary>
public sealed class SharedStateUnavailableException : Exception
{
    public SharedStateUnavailableException()
    {
    }

    public SharedStateUnavailableException(string message)
        : base(message)
    {
    }

    public SharedStateUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
