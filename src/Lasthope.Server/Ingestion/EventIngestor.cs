using Lasthope.Core.Events;
using Lasthope.Core.Identifiers;
using Lasthope.Core.Segments;
using Lasthope.Core.Storage;
using Lasthope.Server.State;
using Lasthope.Server.Telemetry;

namespace Lasthope.Server.Ingestion;

/// <summary>An interaction event as a client or a log file gives it: nothing checked yet.</summary>
public sealed record EventInput(string? EventId, string? ItemId, string? Type = null, string? UserId = null, string? RequestId = null, DateTimeOffset? Timestamp = null);

/// <summary>Why one event of a batch was refused: its index in the batch, the field ("" for the whole event) and why.</summary>
public sealed record EventRejection(int Index, string Field, string Reason);

/// <summary>What became of a batch.</summary>
/// <param name="Accepted">New events, now durable and counted.</param>
/// <param name="Duplicates">Events whose id was seen before: acknowledged, counted once (earlier).</param>
/// <param name="Rejected">Invalid events.</param>
public sealed record IngestResult(int Accepted, int Duplicates, IReadOnlyList<EventRejection> Rejected);

/// <summary>
/// The one path by which interaction events enter Lasthope (POST /v1/events, import and the ingestion benchmark all
/// use it): validate, attribute each event to its logged ranking (position and segment), append to the store
/// (durable when it returns), then count the new ones. Duplicates by event id are acknowledged and not counted again.
/// </summary>
public sealed class EventIngestor
{
    private readonly IEventStore _store;
    private readonly CounterState _state;
    private readonly RecentRankings _recent;
    private readonly UserSegments _users;
    private readonly EventTypeOptions _types;
    private readonly TimeProvider _time;
    private readonly LasthopeMetrics? _metrics;
    private readonly bool _history;
    private readonly ISharedState? _shared;

    /// <param name="history">
    /// Whether the events are a log's history (the importer), which may be of any age; the API's events are held to
    /// <see cref="EventTypeOptions.MaxPastAge"/>.
    /// </param>
    /// <param name="shared">The replicas' shared state, asked for rankings served elsewhere before the store (none for tools).</param>
    public EventIngestor(IEventStore store, CounterState state, RecentRankings recent, UserSegments users, EventTypeOptions types, TimeProvider time, LasthopeMetrics? metrics, bool history = false, ISharedState? shared = null)
    {
        _shared = shared;
        _history = history;
        _store = store;
        _state = state;
        _recent = recent;
        _users = users;
        _types = types;
        _time = time;
        _metrics = metrics;
    }

    /// <summary>
    /// Ingests a batch. Throws <see cref="StoreUnavailableException"/> when the store cannot take it; then nothing of
    /// the batch was acknowledged or counted.
    /// </summary>
    public async Task<IngestResult> IngestAsync(IReadOnlyList<EventInput?> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var now = _time.GetUtcNow();
        var valid = new List<InteractionEvent>(batch.Count);
        var rejected = new List<EventRejection>();
        for (var i = 0; i < batch.Count; i++)
        {
            var (interaction, rejection) = await ValidateAsync(i, batch[i], now, cancellationToken);
            if (interaction is not null)
            {
                valid.Add(interaction);
            }
            else
            {
                rejected.Add(rejection!);
            }
        }

        var sequences = await _store.AppendEventsWithSequencesAsync(valid, cancellationToken);
        var accepted = _state.ApplyAppended(valid, sequences);
        _metrics?.Events(accepted, valid.Count - accepted, rejected.Count);
        return new IngestResult(accepted, valid.Count - accepted, rejected);
    }

    private async ValueTask<(InteractionEvent? Event, EventRejection? Rejection)> ValidateAsync(int index, EventInput? dto, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (dto is null)
        {
            return Reject(index, "", "the event is null");
        }

        if (Ids.Problem(dto.EventId) is { } eventIdProblem)
        {
            return Reject(index, "eventId", $"eventId is required and {eventIdProblem}");
        }

        if (Ids.Problem(dto.ItemId) is { } itemIdProblem)
        {
            return Reject(index, "itemId", $"itemId is required and {itemIdProblem}");
        }

        if (dto.UserId is not null && Ids.Problem(dto.UserId) is { } userIdProblem)
        {
            return Reject(index, "userId", $"userId {userIdProblem}");
        }

        if (dto.RequestId is not null && Ids.Problem(dto.RequestId) is { } requestIdProblem)
        {
            return Reject(index, "requestId", $"requestId {requestIdProblem}");
        }

        var type = dto.Type ?? _types.DefaultType;
        if (!_types.Types.TryGetValue(type, out var weight))
        {
            return Reject(index, "type", $"unknown event type '{Ids.Printable(type)}'; configured types: {string.Join(", ", _types.Types.Keys.Order(StringComparer.Ordinal))}");
        }

        var time = dto.Timestamp ?? now;
        if (time > now + _types.MaxFutureSkew)
        {
            return Reject(index, "timestamp", $"timestamp {time:O} is in the future by more than the allowed clock skew ({_types.MaxFutureSkew})");
        }

        if (!_history && now - time > _types.MaxPastAge)
        {
            return Reject(index, "timestamp", $"timestamp {time:O} is older than Events:MaxPastAge ({_types.MaxPastAge.TotalDays:0.###} days) at the server's clock {now:O}; raise Events:MaxPastAge to post history, or load it with `lasthope import`");
        }

        var (segment, position, surface, servedList) = await AttributeAsync(dto, cancellationToken);
        if (servedList && position is null)
        {
            // A click names the ranking it came from, and that ranking did not show the item: a client bug, or an
            // attempt to lift an item with clicks it never earned. Either way it must not count.
            return Reject(index, "itemId", $"item '{Ids.Printable(dto.ItemId!)}' was not in the ranking '{Ids.Printable(dto.RequestId!)}' the event names");
        }

        return (new InteractionEvent
        {
            EventId = dto.EventId!,
            Type = type,
            Weight = weight,
            ItemId = dto.ItemId!,
            UserId = dto.UserId,
            RequestId = dto.RequestId,
            Time = time,
            Segment = segment,
            Position = position,
            Surface = surface,
        }, null);
    }

    /// <summary>
    /// The segment and position come from the logged ranking when the request id names one (in memory, else in the
    /// replicas' shared state, else in the store); otherwise the segment is the user's remembered one, or unknown, and the position is unknown.
    /// </summary>
    private async ValueTask<(string Segment, int? Position, string? Surface, bool Attributed)> AttributeAsync(EventInput dto, CancellationToken cancellationToken)
    {
        if (dto.RequestId is { } requestId)
        {
            var served = _recent.Find(requestId) ?? await TrySharedAsync(requestId, cancellationToken);
            if (served is null && await TryStoreAsync(s => s.FindRankingAsync(requestId, cancellationToken)) is { } logged)
            {
                served = ServedList.Of(logged);
            }

            if (served is not null)
            {
                return (served.Segment, served.PositionOf(dto.ItemId!), served.Surface, true);
            }
        }

        if (dto.UserId is { } userId)
        {
            var segment = _users.Find(userId) ?? await TryStoreAsync(s => s.FindUserSegmentAsync(userId, cancellationToken));
            if (segment is not null)
            {
                return (segment, null, null, false);
            }
        }

        return (SegmentScheme.Unknown, null, null, false);
    }

    private async ValueTask<ServedList?> TrySharedAsync(string requestId, CancellationToken cancellationToken)
    {
        try
        {
            return _shared is null ? null : await _shared.FindRankingAsync(requestId, cancellationToken);
        }
        catch (SharedStateUnavailableException)
        {
            return null; // the store is asked next
        }
    }

    private async ValueTask<T?> TryStoreAsync<T>(Func<IEventStore, Task<T?>> lookup)
        where T : class
    {
        try
        {
            return await lookup(_store);
        }
        catch (StoreUnavailableException)
        {
            return null; // attribution is best effort; the append below decides whether the batch is acknowledged
        }
    }

    private static (InteractionEvent?, EventRejection?) Reject(int index, string field, string reason)
        => (null, new EventRejection(index, field, reason));
}
