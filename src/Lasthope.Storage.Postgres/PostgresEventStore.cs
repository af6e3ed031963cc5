using System.Runtime.CompilerServices;
using System.Text;
using Lasthope.Core.Events;
using Lasthope.Core.Items;
using Lasthope.Core.Segments;
using Lasthope.Core.Serialization;
using Lasthope.Core.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Lasthope.Storage.Postgres;

/// <summary>
/// The store of several servers: PostgreSQL as the system of record. Every append is one transaction, acknowledged
/// after it commits; a repeated event id or request id is ignored (<c>ON CONFLICT DO NOTHING</c>).
/// </summary>
/// <remarks>
/// Sequence numbers: PostgreSQL commits transactions in no particular order, so a sequence (or an identity column)
/// would let a reader see number 12 committed while 11 is still in flight, and a follower that remembers "12" would
/// miss 11 for good. Here an append takes its numbers from the single row of <c>log_head</c> with an <c>UPDATE</c>,
/// whose row lock it holds until it commits: appends commit in the order of their numbers, one after the other, and
/// whatever a reader sees is a prefix of the log. The cost is that appends of all servers are serialised (each a
/// batch: the impression log writes up to 512 rankings at once); the gain is a cursor that is a single number, the
/// same log order as the embedded store, and no replication slot to manage.
/// </remarks>
public sealed class PostgresEventStore : IEventStore, IModelStore, IItemStore, ISnapshotStore
{
    /// <summary>Rows read per round trip by the reads that walk the log.</summary>
    private const int PageSize = 10_000;

    private static readonly byte[] UnknownSegment = Utf8(SegmentScheme.Unknown);

    private readonly NpgsqlDataSource _source;
    private readonly string _where;

    private PostgresEventStore(NpgsqlDataSource source, string where)
    {
        _source = source;
        _where = where;
    }

    public string Name => "postgres";

    public SkippedRecords Skipped { get; } = new();

    /// <summary>
    /// Connects, and creates or migrates the schema (unless <see cref="PostgresStoreOptions.CreateIfMissing"/> is
    /// false, when a database without it is a <see cref="StoreNotFoundException"/>).
    /// </summary>
    public static PostgresEventStore Open(PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("Storage:Postgres:ConnectionString is required when Storage:Backend is postgres.", nameof(options));
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Storage:Postgres:ConnectionString does not parse: {e.Message}", nameof(options), e);
        }

        var where = $"{builder.Host}:{builder.Port}/{builder.Database}";
        var source = NpgsqlDataSource.Create(builder);
        try
        {
            using var connection = source.OpenConnection();
            if (!options.CreateIfMissing && PostgresSchema.Current(connection) == 0)
            {
                throw new StoreNotFoundException($"No Lasthope store in the PostgreSQL database {where}: check Storage:Postgres:ConnectionString.");
            }

            PostgresSchema.Migrate(connection);
            return new PostgresEventStore(source, where);
        }
        catch (Exception e) when (e is NpgsqlException or StoreNotFoundException or StoreUnavailableException)
        {
            source.Dispose();
            throw e is NpgsqlException ? new StoreUnavailableException($"Cannot open the PostgreSQL store at {where}: {e.Message}", e) : e;
        }
    }

    public Task AppendRankingsAsync(IReadOnlyList<RankingLog> rankings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        if (rankings.Count == 0)
        {
            return Task.CompletedTask;
        }

        return WriteAsync(
            async (connection, transaction, ct) =>
            {
                var first = await ReserveAsync(connection, transaction, rankings.Count, ct);
                await using var command = new NpgsqlCommand(
                    """
                    WITH inserted AS (
                        INSERT INTO rankings(seq, request_id, time_ticks, user_id, segment, surface, item_count, body, items)
                        SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bigint[], $4::bytea[], $5::bytea[], $6::bytea[], $7::int[], $8::bytea[], $9::bytea[])
                        ON CONFLICT (request_id) DO NOTHING
                        RETURNING seq, user_id, segment)
                    INSERT INTO users(user_id, segment)
                    SELECT DISTINCT ON (user_id) user_id, segment FROM inserted
                    WHERE user_id IS NOT NULL AND segment <> $10
                    ORDER BY user_id, seq DESC
                    ON CONFLICT (user_id) DO UPDATE SET segment = excluded.segment
                    """,
                    connection,
                    transaction);
                var p = command.Parameters;
                p.Add(Array(rankings.Select((_, i) => first + i)));
                p.Add(Array(rankings.Select(r => Utf8(r.RequestId))));
                p.Add(Array(rankings.Select(r => r.Time.UtcTicks)));
                p.Add(Array(rankings.Select(r => r.UserId is { } u ? Utf8(u) : null)));
                p.Add(Array(rankings.Select(r => Utf8(r.Segment))));
                p.Add(Array(rankings.Select(r => Utf8(r.Surface))));
                p.Add(Array(rankings.Select(r => r.Items.Count)));
                p.Add(Array(rankings.Select(r => LogJson.Serialize(r))));
                p.Add(Array(rankings.Select(r => ImpressionCodec.Encode([.. r.Items.Select(i => new Impression(i.ItemId, i.Position))]))));
                p.Add(new NpgsqlParameter { Value = UnknownSegment, NpgsqlDbType = NpgsqlDbType.Bytea });
                await command.ExecuteNonQueryAsync(ct);
                return true;
            },
            cancellationToken);
    }

    public async Task<bool[]> AppendEventsAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default)
        => [.. (await AppendEventsWithSequencesAsync(events, cancellationToken)).Select(sequence => sequence > 0)];

    public Task<long[]> AppendEventsWithSequencesAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return Task.FromResult(System.Array.Empty<long>());
        }

        return WriteAsync(
            async (connection, transaction, ct) =>
            {
                var first = await ReserveAsync(connection, transaction, events.Count, ct);
                await using var command = new NpgsqlCommand(
                    """
                    INSERT INTO events(seq, event_id, type, weight, item_id, user_id, request_id, time_ticks, segment, position, surface)
                    SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::float8[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bigint[], $9::bytea[], $10::int[], $11::bytea[])
                    ON CONFLICT (event_id) DO NOTHING
                    RETURNING seq
                    """,
                    connection,
                    transaction);
                var p = command.Parameters;
                p.Add(Array(events.Select((_, i) => first + i)));
                p.Add(Array(events.Select(e => Utf8(e.EventId))));
                p.Add(Array(events.Select(e => Utf8(e.Type))));
                p.Add(Array(events.Select(e => e.Weight)));
                p.Add(Array(events.Select(e => Utf8(e.ItemId))));
                p.Add(Array(events.Select(e => e.UserId is { } u ? Utf8(u) : null)));
                p.Add(Array(events.Select(e => e.RequestId is { } r ? Utf8(r) : null)));
                p.Add(Array(events.Select(e => e.Time.UtcTicks)));
                p.Add(Array(events.Select(e => Utf8(e.Segment))));
                p.Add(Array(events.Select(e => e.Position)));
                p.Add(Array(events.Select(e => e.Surface is { } s ? Utf8(s) : null)));
                var sequences = new long[events.Count];
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var sequence = reader.GetInt64(0);
                    sequences[sequence - first] = sequence;
                }

                return sequences;
            },
            cancellationToken);
    }

    public Task<RankingLog?> FindRankingAsync(string requestId, CancellationToken cancellationToken = default)
        => ReadAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT seq, body FROM rankings WHERE request_id = $1", connection) { Parameters = { Bytes(requestId) } };
                await using var reader = await command.ExecuteReaderAsync(ct);
                return await reader.ReadAsync(ct) && TryDecode(RankingKind, reader, static r => LogJson.Deserialize(r.GetFieldValue<byte[]>(1)), out var ranking) ? ranking : null;
            },
            cancellationToken);

    public Task<string?> FindUserSegmentAsync(string userId, CancellationToken cancellationToken = default)
        => ReadAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT segment FROM users WHERE user_id = $1", connection) { Parameters = { Bytes(userId) } };
                return await command.ExecuteScalarAsync(ct) is byte[] segment ? Text(segment) : null;
            },
            cancellationToken);

    public Task<IReadOnlyList<InteractionEvent>> ReadUserEventsAsync(string userId, int limit, CancellationToken cancellationToken = default)
        => ReadAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand($"SELECT {EventColumns} FROM events WHERE user_id = $1 ORDER BY seq DESC LIMIT $2", connection)
                {
                    Parameters = { Bytes(userId), new NpgsqlParameter { Value = (long)Math.Max(0, limit) } },
                };
                await using var reader = await command.ExecuteReaderAsync(ct);
                var events = new List<InteractionEvent>();
                while (await reader.ReadAsync(ct))
                {
                    if (TryDecode(EventKind, reader, static r => ReadEvent(r, 0), out var e))
                    {
                        events.Add(e);
                    }
                }

                return (IReadOnlyList<InteractionEvent>)events;
            },
            cancellationToken);

    public IAsyncEnumerable<LogEntry> ReadLogAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
        => WalkLogAsync(
            "body",
            since.UtcTicks,
            long.MaxValue,
            static r => new LogEntry(r.GetInt64(1), LogJson.Deserialize(r.GetFieldValue<byte[]>(7)), null),
            static r => new LogEntry(r.GetInt64(1), null, ReadEvent(r, 1)),
            cancellationToken);

    public IAsyncEnumerable<CountingEntry> ReadCountingLogAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
        => WalkLogAsync("items", since.UtcTicks, long.MaxValue, CountingRanking, CountingEvent, cancellationToken);

    public IAsyncEnumerable<CountingEntry> ReadCountingLogAfterAsync(long afterSequence, int limit, CancellationToken cancellationToken = default)
        => WalkLogAsync("items", long.MinValue, Math.Max(0, limit), CountingRanking, CountingEvent, cancellationToken, afterSequence);

    public async IAsyncEnumerable<InteractionEvent> ReadEventsAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in WalkLogAsync("NULL::bytea", since.UtcTicks, long.MaxValue, static _ => (InteractionEvent?)null, static r => ReadEvent(r, 1), cancellationToken, eventsOnly: true))
        {
            yield return entry!;
        }
    }

    /// <summary>
    /// Entries after <paramref name="afterSequence"/> whose event time is at or after <paramref name="sinceTicks"/>,
    /// at most <paramref name="limit"/>, in sequence order: one query per page of <see cref="PageSize"/> rows (rankings
    /// and events merged by the server over their primary keys), each page a committed prefix of what follows the last.
    /// </summary>
    private async IAsyncEnumerable<T> WalkLogAsync<T>(
        string rankingColumn,
        long sinceTicks,
        long limit,
        Func<NpgsqlDataReader, T> ranking,
        Func<NpgsqlDataReader, T> interaction,
        [EnumeratorCancellation] CancellationToken cancellationToken,
        long afterSequence = 0,
        bool eventsOnly = false)
    {
        const string Events = "SELECT 1, seq, time_ticks, segment, user_id, request_id, surface, NULL::bytea, event_id, weight, item_id, position, type FROM events WHERE seq > $1 AND time_ticks >= $2 ORDER BY seq LIMIT $3";
        var sql = eventsOnly
            ? Events
            : $"(SELECT 0 AS kind, seq, time_ticks, segment, user_id, request_id, surface, {rankingColumn}, NULL::bytea, NULL::float8, NULL::bytea, NULL::int, NULL::bytea FROM rankings WHERE seq > $1 AND time_ticks >= $2 ORDER BY seq LIMIT $3) UNION ALL ({Events}) ORDER BY seq LIMIT $3";
        var after = afterSequence;
        var left = limit;
        while (left > 0)
        {
            var page = await ReadAsync(
                async (connection, ct) =>
                {
                    await using var command = new NpgsqlCommand(sql, connection)
                    {
                        Parameters = { new NpgsqlParameter { Value = after }, new NpgsqlParameter { Value = sinceTicks }, new NpgsqlParameter { Value = Math.Min(left, PageSize) } },
                    };
                    await using var reader = await command.ExecuteReaderAsync(ct);
                    var rows = new List<(long Sequence, bool Decoded, T Value)>();
                    while (await reader.ReadAsync(ct))
                    {
                        var isRanking = reader.GetInt32(0) == 0;
                        var decoded = TryDecode(isRanking ? RankingKind : EventKind, reader, isRanking ? ranking : interaction, out var value, sequenceColumn: 1);
                        rows.Add((reader.GetInt64(1), decoded, value));
                    }

                    return rows;
                },
                cancellationToken);
            foreach (var (_, decoded, value) in page)
            {
                if (decoded)
                {
                    yield return value;
                }
            }

            if (page.Count < Math.Min(left, PageSize))
            {
                yield break;
            }

            after = page[^1].Sequence;
            left -= page.Count;
        }
    }

    /// <summary>The event columns as <see cref="ReadEvent"/> reads them: seq, time, segment, user, request, surface, a ranking's column, then the event's own.</summary>
    private const string EventColumns = "seq, time_ticks, segment, user_id, request_id, surface, NULL::bytea, event_id, weight, item_id, position, type";

    private static InteractionEvent ReadEvent(NpgsqlDataReader r, int offset) => new() // offset: the column of seq
    {
        EventId = Text(r.GetFieldValue<byte[]>(offset + 7)),
        Type = Text(r.GetFieldValue<byte[]>(offset + 11)),
        Weight = r.GetDouble(offset + 8),
        ItemId = Text(r.GetFieldValue<byte[]>(offset + 9)),
        UserId = r.IsDBNull(offset + 3) ? null : Text(r.GetFieldValue<byte[]>(offset + 3)),
        RequestId = r.IsDBNull(offset + 4) ? null : Text(r.GetFieldValue<byte[]>(offset + 4)),
        Time = new DateTimeOffset(r.GetInt64(offset + 1), TimeSpan.Zero),
        Segment = Text(r.GetFieldValue<byte[]>(offset + 2)),
        Position = r.IsDBNull(offset + 10) ? null : r.GetInt32(offset + 10),
        Surface = r.IsDBNull(offset + 5) ? null : Text(r.GetFieldValue<byte[]>(offset + 5)),
    };

    private static CountingEntry CountingRanking(NpgsqlDataReader r) => new(
        r.GetInt64(1),
        new DateTimeOffset(r.GetInt64(2), TimeSpan.Zero),
        Text(r.GetFieldValue<byte[]>(3)),
        r.IsDBNull(4) ? null : Text(r.GetFieldValue<byte[]>(4)),
        ImpressionCodec.Decode(r.GetFieldValue<byte[]>(7)),
        null,
        Text(r.GetFieldValue<byte[]>(5)),
        Text(r.GetFieldValue<byte[]>(6)));

    private static CountingEntry CountingEvent(NpgsqlDataReader r)
    {
        var e = ReadEvent(r, 1);
        return new CountingEntry(r.GetInt64(1), e.Time, e.Segment, e.UserId, null, e);
    }

    public Task<StoreCounts> CountAsync(CancellationToken cancellationToken = default)
        => ReadAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT (SELECT COUNT(*) FROM rankings), (SELECT COALESCE(SUM(item_count), 0)::bigint FROM rankings), (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM users)", connection);
                await using var reader = await command.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                return new StoreCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            },
            cancellationToken);

    public Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default)
        => ReadAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT value FROM settings WHERE key = $1", connection) { Parameters = { new NpgsqlParameter { Value = key } } };
                return await command.ExecuteScalarAsync(ct) as string;
            },
            cancellationToken);

    public Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default)
        => ExecuteAsync("INSERT INTO settings(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value], cancellationToken);

    public Task SaveSnapshotAsync(string name, byte[] content, CancellationToken cancellationToken = default)
        => ExecuteAsync("INSERT INTO snapshots(name, content, saved_at) VALUES ($1, $2, now()) ON CONFLICT (name) DO UPDATE SET content = excluded.content, saved_at = excluded.saved_at", [name, content], cancellationToken);

    public Task<byte[]?> LoadSnapshotAsync(string name, CancellationToken cancellationToken = default)
        => ReadAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT content FROM snapshots WHERE name = $1", connection) { Parameters = { new NpgsqlParameter { Value = name } } };
                return await command.ExecuteScalarAsync(ct) as byte[];
            },
            cancellationToken);

    public async Task SaveModelAsync(ModelRecord model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        try
        {
            await ExecuteAsync(
                "INSERT INTO models(version, surface, kind, feature_names, fingerprint, parameters, trained_from, trained_to, metrics, registered_at, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                [model.Version, model.Surface, model.Kind, string.Join('\n', model.FeatureNames), model.Fingerprint, model.Parameters, model.TrainedFrom?.UtcTicks, model.TrainedTo?.UtcTicks, model.Metrics, model.RegisteredAt.UtcTicks, model.Content],
                cancellationToken);
        }
        catch (StoreUnavailableException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw new InvalidOperationException($"Model version '{model.Version}' exists already.", e);
        }
    }

    public async Task<ModelRecord?> FindModelAsync(string version, CancellationToken cancellationToken = default)
    {
        var found = await QueryModelsAsync("WHERE version = $1", version, withContent: true, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<ModelRecord>> ListModelsAsync(CancellationToken cancellationToken = default)
        => QueryModelsAsync("ORDER BY registered_at DESC", null, withContent: false, cancellationToken);

    public Task SetActiveModelAsync(string surface, string? version, CancellationToken cancellationToken = default)
        => version is null
            ? ExecuteAsync("DELETE FROM active_models WHERE surface = $1", [surface], cancellationToken)
            : ExecuteAsync("INSERT INTO active_models(surface, version) VALUES ($1, $2) ON CONFLICT (surface) DO UPDATE SET version = excluded.version", [surface, version], cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetActiveModelsAsync(CancellationToken cancellationToken = default)
        => ReadAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT surface, version FROM active_models", connection);
                await using var reader = await command.ExecuteReaderAsync(ct);
                var active = new Dictionary<string, string>(StringComparer.Ordinal);
                while (await reader.ReadAsync(ct))
                {
                    active[reader.GetString(0)] = reader.GetString(1);
                }

                return (IReadOnlyDictionary<string, string>)active;
            },
            cancellationToken);

    private Task<IReadOnlyList<ModelRecord>> QueryModelsAsync(string clause, string? version, bool withContent, CancellationToken cancellationToken)
        => ReadAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(
                    $"SELECT version, surface, kind, feature_names, fingerprint, parameters, trained_from, trained_to, metrics, registered_at, {(withContent ? "content" : "NULL::bytea")} FROM models {clause}",
                    connection);
                if (version is not null)
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = version });
                }

                await using var r = await command.ExecuteReaderAsync(ct);
                var models = new List<ModelRecord>();
                while (await r.ReadAsync(ct))
                {
                    models.Add(new ModelRecord
                    {
                        Version = r.GetString(0),
                        Surface = r.GetString(1),
                        Kind = r.GetString(2),
                        FeatureNames = r.GetString(3).Split('\n', StringSplitOptions.RemoveEmptyEntries),
                        Fingerprint = r.GetString(4),
                        Parameters = r.IsDBNull(5) ? null : r.GetString(5),
                        TrainedFrom = r.IsDBNull(6) ? null : new DateTimeOffset(r.GetInt64(6), TimeSpan.Zero),
                        TrainedTo = r.IsDBNull(7) ? null : new DateTimeOffset(r.GetInt64(7), TimeSpan.Zero),
                        Metrics = r.IsDBNull(8) ? null : r.GetString(8),
                        RegisteredAt = new DateTimeOffset(r.GetInt64(9), TimeSpan.Zero),
                        Content = r.IsDBNull(10) ? [] : r.GetFieldValue<byte[]>(10),
                    });
                }

                return (IReadOnlyList<ModelRecord>)models;
            },
            cancellationToken);

    public Task UpsertItemsAsync(IReadOnlyList<ItemAttributes> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return Task.CompletedTask;
        }

        // The last write of an item in the batch wins, as it would row by row.
        var latest = items.GroupBy(i => i.ItemId, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        return WriteAsync(
            async (connection, transaction, ct) =>
            {
                await using var command = new NpgsqlCommand(
                    "INSERT INTO items(item_id, category, attributes, updated_ticks) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::text[], $4::bigint[]) ON CONFLICT (item_id) DO UPDATE SET category = excluded.category, attributes = excluded.attributes, updated_ticks = excluded.updated_ticks",
                    connection,
                    transaction);
                command.Parameters.Add(Array(latest.Select(i => Utf8(i.ItemId))));
                command.Parameters.Add(Array(latest.Select(i => i.Category is { } c ? Utf8(c) : null)));
                command.Parameters.Add(Array(latest.Select(i => ItemNumbersJson.Encode(i.Numbers))));
                command.Parameters.Add(Array(latest.Select(i => i.UpdatedAt.UtcTicks)));
                await command.ExecuteNonQueryAsync(ct);
                return true;
            },
            cancellationToken);
    }

    public async IAsyncEnumerable<ItemAttributes> ReadItemsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var items = await ReadAsync(
            async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand("SELECT NULL::bigint, item_id, category, attributes, updated_ticks FROM items", connection); // no sequence number: a skipped row counts as -1
                await using var reader = await command.ExecuteReaderAsync(ct);
                var read = new List<ItemAttributes>();
                while (await reader.ReadAsync(ct))
                {
                    if (TryDecode(ItemKind, reader, static r => new ItemAttributes(Text(r.GetFieldValue<byte[]>(1)), r.IsDBNull(2) ? null : Text(r.GetFieldValue<byte[]>(2)), ItemNumbersJson.Decode(r.GetString(3)), new DateTimeOffset(r.GetInt64(4), TimeSpan.Zero)), out var item))
                    {
                        read.Add(item);
                    }
                }

                return read;
            },
            cancellationToken);
        foreach (var item in items)
        {
            yield return item;
        }
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    /// <summary>Takes <paramref name="count"/> sequence numbers; the row stays locked until the transaction ends.</summary>
    private static async Task<long> ReserveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int count, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("UPDATE log_head SET seq = seq + $1 WHERE id = 1 RETURNING seq", connection, transaction) { Parameters = { new NpgsqlParameter { Value = (long)count } } };
        var last = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        return last - count + 1;
    }

    private Task<bool> ExecuteAsync(string sql, object?[] values, CancellationToken cancellationToken)
        => WriteAsync(
            async (connection, transaction, ct) =>
            {
                await using var command = new NpgsqlCommand(sql, connection, transaction);
                foreach (var value in values)
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
                }

                await command.ExecuteNonQueryAsync(ct);
                return true;
            },
            cancellationToken);

    /// <summary>One transaction; acknowledged (returned) only after it commits.</summary>
    private async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var result = await work(connection, transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        catch (NpgsqlException e)
        {
            throw new StoreUnavailableException($"PostgreSQL write to {_where} failed: {e.Message}", e);
        }
    }

    private async Task<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _source.OpenConnectionAsync(cancellationToken);
            return await work(connection, cancellationToken);
        }
        catch (NpgsqlException e)
        {
            throw new StoreUnavailableException($"PostgreSQL read from {_where} failed: {e.Message}", e);
        }
    }

    private const string RankingKind = "ranking";
    private const string EventKind = "event";
    private const string ItemKind = "item";

    /// <summary>Decodes the current row, or notes it in <see cref="Skipped"/> and returns false: a damaged row never fails a read.</summary>
    private bool TryDecode<T>(string kind, NpgsqlDataReader reader, Func<NpgsqlDataReader, T> decode, out T value, int sequenceColumn = 0)
    {
        try
        {
            value = decode(reader);
            return true;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidCastException or InvalidOperationException or ArgumentException or OverflowException or NotSupportedException)
        {
            Skipped.Add(kind, reader.IsDBNull(sequenceColumn) ? -1 : reader.GetInt64(sequenceColumn), e);
            value = default!;
            return false;
        }
    }

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);

    private static string Text(byte[] value) => Encoding.UTF8.GetString(value);

    private static NpgsqlParameter Bytes(string value) => new() { Value = Utf8(value), NpgsqlDbType = NpgsqlDbType.Bytea };

    private static NpgsqlParameter Array<T>(IEnumerable<T> values) => new() { Value = values.ToArray() };
}
