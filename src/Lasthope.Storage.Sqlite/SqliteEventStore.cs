using System.Globalization;
using System.Runtime.CompilerServices;
using Lasthope.Core.Events;
using Lasthope.Core.Items;
using Lasthope.Core.Segments;
using Lasthope.Core.Serialization;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Lasthope.Storage.Sqlite;

/// <summary>
/// The embedded default store: one SQLite database in WAL mode under the data directory. One writer connection
/// (appends are serialised and each is one transaction), readers on pooled connections that WAL lets run alongside it.
/// </summary>
/// <remarks>
/// Why SQLite: it needs no server, is the most deployed embedded engine, has a stable file format, and in WAL mode gives
/// concurrent readers with a single writer, which is this workload's shape. Durability: an append returns after its
/// transaction commits, so acknowledged data survives a crash of the process (see <see cref="Durability"/>).
/// The schema version is kept in <c>PRAGMA user_version</c>. Every stored value reads back exactly: ids are bound as
/// parameters, never parsed out of a joined string, and a row that cannot be decoded is skipped and counted
/// (<see cref="Skipped"/>) rather than failing the read.
/// </remarks>
public sealed class SqliteEventStore : IEventStore, IModelStore, IItemStore, ISnapshotStore
{
    /// <summary>The schema this code writes. Older files are migrated on open; newer ones are refused.</summary>
    public const int SchemaVersion = 8;

    private readonly string _connectionString;
    private readonly SqliteConnection _writer;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly EventAppender _insertEvent;
    private readonly SqliteCommand _insertRanking;
    private readonly SqliteCommand _upsertUser;
    private long _nextSequence;
    private bool _disposed;

    private SqliteEventStore(string connectionString, SqliteConnection writer, long nextSequence)
    {
        _connectionString = connectionString;
        _writer = writer;
        _nextSequence = nextSequence;
        _insertEvent = new EventAppender(writer);
        _insertRanking = Prepare(
            writer,
            "INSERT OR IGNORE INTO rankings(seq, request_id, time_ticks, user_id, segment, surface, served_by, fallback_reason, model_version, experiment_id, arm, item_count, body, items) VALUES ($seq, $request_id, $time, $user_id, $segment, $surface, $served_by, $fallback_reason, $model_version, $experiment_id, $arm, $item_count, $body, $items)",
            "$seq", "$request_id", "$time", "$user_id", "$segment", "$surface", "$served_by", "$fallback_reason", "$model_version", "$experiment_id", "$arm", "$item_count", "$body", "$items");
        _upsertUser = Prepare(
            writer,
            "INSERT INTO users(user_id, segment) VALUES ($user_id, $segment) ON CONFLICT(user_id) DO UPDATE SET segment = excluded.segment WHERE segment <> excluded.segment",
            "$user_id", "$segment");
    }

    public string Name => "sqlite";

    public SkippedRecords Skipped { get; } = new();

    /// <summary>The database file.</summary>
    public string DatabasePath { get; private init; } = "";

    /// <summary>Opens (creating when needed) the store under <see cref="SqliteStoreOptions.DataDirectory"/>.</summary>
    public static Task<SqliteEventStore> OpenAsync(SqliteStoreOptions options, CancellationToken cancellationToken = default)
    {
        try
        {
            return Task.FromResult(Open(options));
        }
        catch (Exception e) when (e is StoreUnavailableException or StoreNotFoundException)
        {
            return Task.FromException<SqliteEventStore>(e);
        }
    }

    /// <summary>
    /// Opens (creating when needed, unless <see cref="SqliteStoreOptions.CreateIfMissing"/> is false) the store and
    /// migrates its schema. SQLite's work here is synchronous: opening a file and a few statements.
    /// </summary>
    public static SqliteEventStore Open(SqliteStoreOptions options)
    {

        ArgumentNullException.ThrowIfNull(options);
        if (!options.CreateIfMissing && !File.Exists(options.DatabasePath))
        {
            throw new StoreNotFoundException($"No Lasthope store at {Path.GetFullPath(options.DataDirectory)} (no lasthope.db there): check --data.");
        }

        try
        {
            Directory.CreateDirectory(options.DataDirectory);
            var connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = options.DatabasePath,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Cache = SqliteCacheMode.Private,
                Pooling = true,
                DefaultTimeout = 30,
            }.ToString();
            var writer = new SqliteConnection(connectionString);
            writer.Open();
            var synchronous = options.Durability == Durability.PowerLoss ? "FULL" : "NORMAL";
            Execute(writer, $"PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = 5000; PRAGMA temp_store = MEMORY;");
            Migrate(writer);
            var next = Scalar(writer, "SELECT MAX(m) FROM (SELECT MAX(seq) AS m FROM events UNION ALL SELECT MAX(seq) FROM rankings)");
            return new SqliteEventStore(connectionString, writer, next + 1) { DatabasePath = options.DatabasePath };
        }
        catch (SqliteException e)
        {
            throw new StoreUnavailableException($"Cannot open the SQLite store at {options.DatabasePath}: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new StoreUnavailableException($"Cannot open the SQLite store at {options.DatabasePath}: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StoreUnavailableException($"Cannot open the SQLite store at {options.DatabasePath}: {e.Message}", e);
        }
    }

    public async Task AppendRankingsAsync(IReadOnlyList<RankingLog> rankings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        if (rankings.Count == 0)
        {
            return;
        }

        await WriteAsync(
            transaction =>
            {
                _insertRanking.Transaction = transaction;
                _upsertUser.Transaction = transaction;
                var p = _insertRanking.Parameters;
                foreach (var r in rankings)
                {
                    p[0].Value = _nextSequence++;
                    p[1].Value = r.RequestId;
                    p[2].Value = r.Time.UtcTicks;
                    p[3].Value = (object?)r.UserId ?? DBNull.Value;
                    p[4].Value = r.Segment;
                    p[5].Value = r.Surface;
                    p[6].Value = r.ServedBy.ToWire();
                    p[7].Value = r.FallbackReason is { } reason ? reason.ToWire() : DBNull.Value;
                    p[8].Value = (object?)r.ModelVersion ?? DBNull.Value;
                    p[9].Value = (object?)r.Experiment?.ExperimentId ?? DBNull.Value;
                    p[10].Value = (object?)r.Experiment?.Arm ?? DBNull.Value;
                    p[11].Value = r.Items.Count;
                    p[12].Value = LogJson.Serialize(r);
                    p[13].Value = ImpressionCodec.Encode([.. r.Items.Select(i => new Impression(i.ItemId, i.Position))]);
                    if (_insertRanking.ExecuteNonQuery() == 1 && r.UserId is { } user && r.Segment != SegmentScheme.Unknown)
                    {
                        _upsertUser.Parameters[0].Value = user;
                        _upsertUser.Parameters[1].Value = r.Segment;
                        _upsertUser.ExecuteNonQuery();
                    }
                }

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
            return Task.FromResult(Array.Empty<long>());
        }

        return WriteAsync(
            _ =>
            {
                // In the writer's transaction (the statement runs on its connection), committed as one.
                var sequences = new long[events.Count];
                for (var i = 0; i < events.Count; i++)
                {
                    var sequence = _nextSequence++;
                    sequences[i] = _insertEvent.Insert(sequence, events[i]) ? sequence : 0;
                }

                return sequences;
            },
            cancellationToken);
    }

    public async Task<RankingLog?> FindRankingAsync(string requestId, CancellationToken cancellationToken = default)
    {
        return await ReadAsync(
            async (connection, ct) =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT seq, body FROM rankings WHERE request_id = $id";
                command.Parameters.AddWithValue("$id", requestId);
                await using var reader = await command.ExecuteReaderAsync(ct);
                return await reader.ReadAsync(ct) && TryDecode(RankingKind, reader, static r => LogJson.Deserialize((byte[])r[1]), out var ranking) ? ranking : null;
            },
            cancellationToken);
    }

    public async Task<string?> FindUserSegmentAsync(string userId, CancellationToken cancellationToken = default)
    {
        return await ReadAsync(
            async (connection, ct) =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT segment FROM users WHERE user_id = $id";
                command.Parameters.AddWithValue("$id", userId);
                return await command.ExecuteScalarAsync(ct) as string;
            },
            cancellationToken);
    }

    public async Task<IReadOnlyList<InteractionEvent>> ReadUserEventsAsync(string userId, int limit, CancellationToken cancellationToken = default)
    {
        return await ReadAsync(
            async (connection, ct) =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = $"SELECT {EventColumns} FROM events WHERE user_id = $u ORDER BY seq DESC LIMIT $n";
                command.Parameters.AddWithValue("$u", userId);
                command.Parameters.AddWithValue("$n", limit);
                await using var reader = await command.ExecuteReaderAsync(ct);
                var events = new List<InteractionEvent>();
                while (await reader.ReadAsync(ct))
                {
                    if (TryDecode(EventKind, reader, ReadEvent, out var e))
                    {
                        events.Add(e);
                    }
                }

                return (IReadOnlyList<InteractionEvent>)events;
            },
            cancellationToken);
    }

    public IAsyncEnumerable<LogEntry> ReadLogAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
        => MergeLogAsync(
            "seq, body",
            "time_ticks >= $since",
            since.UtcTicks,
            int.MaxValue,
            static r => new LogEntry(r.GetInt64(0), LogJson.Deserialize((byte[])r[1]), null),
            static e => new LogEntry(e.GetInt64(0), null, ReadEvent(e)),
            cancellationToken);

    public IAsyncEnumerable<CountingEntry> ReadCountingLogAsync(DateTimeOffset since, CancellationToken cancellationToken = default)
        => MergeLogAsync(CountingRankingColumns, "time_ticks >= $since", since.UtcTicks, int.MaxValue, CountingRanking, CountingEvent, cancellationToken);

    /// <remarks>
    /// The log is visible as a prefix: sequence numbers are given out under the single writer's gate and committed in
    /// that order, so a reader never sees an entry while one with a lower number is still to come.
    /// </remarks>
    public IAsyncEnumerable<CountingEntry> ReadCountingLogAfterAsync(long afterSequence, int limit, CancellationToken cancellationToken = default)
        => MergeLogAsync(CountingRankingColumns, "seq > $since", afterSequence, limit, CountingRanking, CountingEvent, cancellationToken);

    private const string CountingRankingColumns = "seq, time_ticks, segment, user_id, items, CASE WHEN items IS NULL THEN body END, request_id, surface";

    private static CountingEntry CountingRanking(SqliteDataReader r) => new(
        r.GetInt64(0),
        new DateTimeOffset(r.GetInt64(1), TimeSpan.Zero),
        r.GetString(2),
        r.IsDBNull(3) ? null : r.GetString(3),
        r.IsDBNull(4) ? [.. LogJson.Deserialize((byte[])r[5]).Items.Select(i => new Impression(i.ItemId, i.Position))] : ImpressionCodec.Decode((byte[])r[4]),
        null,
        r.GetString(6),
        r.GetString(7));

    /// <summary>
    /// The rankings (the given columns, seq first) and the events that match <paramref name="filter"/> (on $since),
    /// at most <paramref name="limit"/> of them, merged in sequence order. Two ordered statements in one read
    /// transaction, so that both see the same snapshot of the WAL: a committed prefix of the log (two connections
    /// could see an event appended after a ranking they missed, and a follower would then skip that ranking for good).
    /// A row that cannot be decoded is skipped and noted.
    /// </summary>
    private async IAsyncEnumerable<T> MergeLogAsync<T>(
        string rankingColumns, string filter, long since, int limit, Func<SqliteDataReader, T> ranking, Func<SqliteDataReader, T> interaction, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: true);
        await using var rankingCommand = connection.CreateCommand();
        rankingCommand.Transaction = transaction;
        rankingCommand.CommandText = $"SELECT {rankingColumns} FROM rankings WHERE {filter} ORDER BY seq LIMIT $limit";
        rankingCommand.Parameters.AddWithValue("$since", since);
        rankingCommand.Parameters.AddWithValue("$limit", limit);
        await using var eventCommand = connection.CreateCommand();
        eventCommand.Transaction = transaction;
        eventCommand.CommandText = $"SELECT {EventColumns} FROM events WHERE {filter} ORDER BY seq LIMIT $limit";
        eventCommand.Parameters.AddWithValue("$since", since);
        eventCommand.Parameters.AddWithValue("$limit", limit);
        await using var rankings = await rankingCommand.ExecuteReaderAsync(cancellationToken);
        await using var events = await eventCommand.ExecuteReaderAsync(cancellationToken);
        var hasRanking = await rankings.ReadAsync(cancellationToken);
        var hasEvent = await events.ReadAsync(cancellationToken);
        for (var returned = 0; (hasRanking || hasEvent) && returned < limit; returned++)
        {
            if (hasRanking && (!hasEvent || rankings.GetInt64(0) < events.GetInt64(0)))
            {
                if (TryDecode(RankingKind, rankings, ranking, out var entry))
                {
                    yield return entry;
                }

                hasRanking = await rankings.ReadAsync(cancellationToken);
            }
            else
            {
                if (TryDecode(EventKind, events, interaction, out var entry))
                {
                    yield return entry;
                }

                hasEvent = await events.ReadAsync(cancellationToken);
            }
        }
    }

    public async Task UpsertItemsAsync(IReadOnlyList<Core.Items.ItemAttributes> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        await WriteAsync(
            transaction =>
            {
                using var command = _writer.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO items(item_id, category, attributes, updated_ticks) VALUES ($i, $c, $a, $t) ON CONFLICT(item_id) DO UPDATE SET category = excluded.category, attributes = excluded.attributes, updated_ticks = excluded.updated_ticks";
                var (id, category, attributes, time) = (command.Parameters.Add("$i", SqliteType.Text), command.Parameters.Add("$c", SqliteType.Text), command.Parameters.Add("$a", SqliteType.Text), command.Parameters.Add("$t", SqliteType.Integer));
                foreach (var item in items)
                {
                    id.Value = item.ItemId;
                    category.Value = (object?)item.Category ?? DBNull.Value;
                    attributes.Value = ItemNumbersJson.Encode(item.Numbers);
                    time.Value = item.UpdatedAt.UtcTicks;
                    command.ExecuteNonQuery();
                }

                return true;
            },
            cancellationToken);
    }

    public async IAsyncEnumerable<Core.Items.ItemAttributes> ReadItemsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT NULL, item_id, category, attributes, updated_ticks FROM items"; // no sequence number: a skipped row counts as -1
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (TryDecode(ItemKind, reader, static r => new Core.Items.ItemAttributes(r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), ItemNumbersJson.Decode(r.GetString(3)), new DateTimeOffset(r.GetInt64(4), TimeSpan.Zero)), out var item))
            {
                yield return item;
            }
        }
    }

    public async IAsyncEnumerable<InteractionEvent> ReadEventsAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {EventColumns} FROM events WHERE time_ticks >= $since ORDER BY seq";
        command.Parameters.AddWithValue("$since", since.UtcTicks);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (TryDecode(EventKind, reader, ReadEvent, out var e))
            {
                yield return e;
            }
        }
    }

    public async Task<StoreCounts> CountAsync(CancellationToken cancellationToken = default)
    {
        return await ReadAsync(
            async (connection, ct) =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT (SELECT COUNT(*) FROM rankings), (SELECT COALESCE(SUM(item_count), 0) FROM rankings), (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM users)";
                await using var reader = await command.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
                return new StoreCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            },
            cancellationToken);
    }

    public async Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default)
    {
        return await ReadAsync(
            async (connection, ct) =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT value FROM settings WHERE key = $key";
                command.Parameters.AddWithValue("$key", key);
                return await command.ExecuteScalarAsync(ct) as string;
            },
            cancellationToken);
    }

    public async Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        await WriteAsync(
            transaction =>
            {
                using var command = _writer.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO settings(key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
                command.Parameters.AddWithValue("$key", key);
                command.Parameters.AddWithValue("$value", value);
                command.ExecuteNonQuery();
                return true;
            },
            cancellationToken);
    }

    public async Task SaveSnapshotAsync(string name, byte[] content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        await WriteAsync(
            transaction =>
            {
                using var command = _writer.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO snapshots(name, content, saved_ticks) VALUES ($n, $c, $t) ON CONFLICT(name) DO UPDATE SET content = excluded.content, saved_ticks = excluded.saved_ticks";
                command.Parameters.AddWithValue("$n", name);
                command.Parameters.AddWithValue("$c", content);
                command.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.UtcTicks);
                command.ExecuteNonQuery();
                return true;
            },
            cancellationToken);
    }

    public async Task<byte[]?> LoadSnapshotAsync(string name, CancellationToken cancellationToken = default)
    {
        return await ReadAsync(
            async (connection, ct) =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT content FROM snapshots WHERE name = $n";
                command.Parameters.AddWithValue("$n", name);
                return await command.ExecuteScalarAsync(ct) as byte[];
            },
            cancellationToken);
    }

    public async Task SaveModelAsync(ModelRecord model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        try
        {
            await WriteAsync(
                transaction =>
                {
                    using var command = _writer.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = "INSERT INTO models(version, surface, kind, feature_names, fingerprint, parameters, trained_from, trained_to, metrics, registered_at, content) VALUES ($v, $s, $k, $f, $fp, $p, $tf, $tt, $m, $r, $c)";
                    command.Parameters.AddWithValue("$v", model.Version);
                    command.Parameters.AddWithValue("$s", model.Surface);
                    command.Parameters.AddWithValue("$k", model.Kind);
                    command.Parameters.AddWithValue("$f", string.Join('\n', model.FeatureNames));
                    command.Parameters.AddWithValue("$fp", model.Fingerprint);
                    command.Parameters.AddWithValue("$p", (object?)model.Parameters ?? DBNull.Value);
                    command.Parameters.AddWithValue("$tf", (object?)model.TrainedFrom?.UtcTicks ?? DBNull.Value);
                    command.Parameters.AddWithValue("$tt", (object?)model.TrainedTo?.UtcTicks ?? DBNull.Value);
                    command.Parameters.AddWithValue("$m", (object?)model.Metrics ?? DBNull.Value);
                    command.Parameters.AddWithValue("$r", model.RegisteredAt.UtcTicks);
                    command.Parameters.AddWithValue("$c", model.Content);
                    command.ExecuteNonQuery();
                    return true;
                },
                cancellationToken);
        }
        catch (StoreUnavailableException e) when (e.InnerException is SqliteException { SqliteErrorCode: 19 })
        {
            throw new InvalidOperationException($"Model version '{model.Version}' exists already.", e);
        }
    }

    public async Task<ModelRecord?> FindModelAsync(string version, CancellationToken cancellationToken = default)
    {
        var found = await QueryModelsAsync("WHERE version = $v", version, withContent: true, cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<ModelRecord>> ListModelsAsync(CancellationToken cancellationToken = default)
        => QueryModelsAsync("ORDER BY registered_at DESC", null, withContent: false, cancellationToken);

    public async Task SetActiveModelAsync(string surface, string? version, CancellationToken cancellationToken = default)
    {
        await WriteAsync(
            transaction =>
            {
                using var command = _writer.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = version is null
                    ? "DELETE FROM active_models WHERE surface = $s"
                    : "INSERT INTO active_models(surface, version) VALUES ($s, $v) ON CONFLICT(surface) DO UPDATE SET version = excluded.version";
                command.Parameters.AddWithValue("$s", surface);
                if (version is not null)
                {
                    command.Parameters.AddWithValue("$v", version);
                }

                command.ExecuteNonQuery();
                return true;
            },
            cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, string>> GetActiveModelsAsync(CancellationToken cancellationToken = default)
    {
        return await ReadAsync(
            async (connection, ct) =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT surface, version FROM active_models";
                await using var reader = await command.ExecuteReaderAsync(ct);
                var active = new Dictionary<string, string>(StringComparer.Ordinal);
                while (await reader.ReadAsync(ct))
                {
                    active[reader.GetString(0)] = reader.GetString(1);
                }

                return (IReadOnlyDictionary<string, string>)active;
            },
            cancellationToken);
    }

    private async Task<IReadOnlyList<ModelRecord>> QueryModelsAsync(string clause, string? version, bool withContent, CancellationToken cancellationToken)
    {
        return await ReadAsync(
            async (connection, ct) =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = $"SELECT version, surface, kind, feature_names, fingerprint, parameters, trained_from, trained_to, metrics, registered_at, {(withContent ? "content" : "NULL")} FROM models {clause}";
                if (version is not null)
                {
                    command.Parameters.AddWithValue("$v", version);
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
                        Content = r.IsDBNull(10) ? [] : (byte[])r[10],
                    });
                }

                return (IReadOnlyList<ModelRecord>)models;
            },
            cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _writeGate.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _insertEvent.Dispose();
            _insertRanking.Dispose();
            _upsertUser.Dispose();
            await _writer.DisposeAsync();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task<T> WriteAsync<T>(Func<SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        var sequenceBefore = _nextSequence;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var transaction = _writer.BeginTransaction();
            var result = work(transaction);
            transaction.Commit();
            return result;
        }
        catch (SqliteException e)
        {
            _nextSequence = sequenceBefore;
            throw new StoreUnavailableException($"SQLite write failed: {e.Message}", e);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenReaderAsync(cancellationToken);
            return await work(connection, cancellationToken);
        }
        catch (SqliteException e)
        {
            throw new StoreUnavailableException($"SQLite read failed: {e.Message}", e);
        }
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private const string RankingKind = "ranking";

    private const string ItemKind = "item";
    private const string EventKind = "event";

    /// <summary>
    /// Decodes the current row (seq in column 0), or notes it in <see cref="Skipped"/> and returns false: a damaged
    /// row is never a reason to fail a read, a lookup or a start.
    /// </summary>
    private bool TryDecode<T>(string kind, SqliteDataReader reader, Func<SqliteDataReader, T> decode, out T value)
    {
        try
        {
            value = decode(reader);
            return true;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidCastException or InvalidOperationException or ArgumentException or OverflowException or NotSupportedException)
        {
            Skipped.Add(kind, reader.IsDBNull(0) ? -1 : reader.GetInt64(0), e);
            value = default!;
            return false;
        }
    }

    /// <summary>The event columns, in the order <see cref="ReadEvent"/> reads them.</summary>
    private const string EventColumns = "seq, event_id, type, weight, item_id, user_id, request_id, time_ticks, segment, position, surface";

    private static CountingEntry CountingEvent(SqliteDataReader r)
    {
        var e = ReadEvent(r);
        return new CountingEntry(r.GetInt64(0), e.Time, e.Segment, e.UserId, null, e);
    }

    private static InteractionEvent ReadEvent(SqliteDataReader r) => new()
    {
        EventId = r.GetString(1),
        Type = r.GetString(2),
        Weight = r.GetDouble(3),
        ItemId = r.GetString(4),
        UserId = r.IsDBNull(5) ? null : r.GetString(5),
        RequestId = r.IsDBNull(6) ? null : r.GetString(6),
        Time = new DateTimeOffset(r.GetInt64(7), TimeSpan.Zero),
        Segment = r.GetString(8),
        Position = r.IsDBNull(9) ? null : r.GetInt32(9),
        Surface = r.IsDBNull(10) ? null : r.GetString(10),
    };

    private static void Migrate(SqliteConnection connection)
    {
        var version = Scalar(connection, "PRAGMA user_version");
        if (version > SchemaVersion)
        {
            throw new StoreUnavailableException($"The database has schema version {version}, newer than this build's {SchemaVersion}: upgrade Lasthope.");
        }

        if (version < 1)
        {
            Execute(
                connection,
                """
                BEGIN;
                CREATE TABLE IF NOT EXISTS rankings(
                    seq INTEGER PRIMARY KEY,
                    request_id TEXT NOT NULL UNIQUE,
                    time_ticks INTEGER NOT NULL,
                    user_id TEXT,
                    segment TEXT NOT NULL,
                    surface TEXT NOT NULL,
                    served_by TEXT NOT NULL,
                    fallback_reason TEXT,
                    model_version TEXT,
                    experiment_id TEXT,
                    arm TEXT,
                    item_count INTEGER NOT NULL,
                    body BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS events(
                    seq INTEGER PRIMARY KEY,
                    event_id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    weight REAL NOT NULL,
                    item_id TEXT NOT NULL,
                    user_id TEXT,
                    request_id TEXT,
                    time_ticks INTEGER NOT NULL,
                    segment TEXT NOT NULL,
                    position INTEGER,
                    surface TEXT);
                CREATE TABLE IF NOT EXISTS users(user_id TEXT PRIMARY KEY, segment TEXT NOT NULL) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                PRAGMA user_version = 1;
                COMMIT;
                """);
        }

        if (version < 2)
        {
            Execute(
                connection,
                """
                BEGIN;
                CREATE TABLE IF NOT EXISTS models(
                    version TEXT PRIMARY KEY,
                    surface TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    feature_names TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    parameters TEXT,
                    trained_from INTEGER,
                    trained_to INTEGER,
                    metrics TEXT,
                    registered_at INTEGER NOT NULL,
                    content BLOB NOT NULL) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS active_models(surface TEXT PRIMARY KEY, version TEXT NOT NULL) WITHOUT ROWID;
                PRAGMA user_version = 2;
                COMMIT;
                """);
        }

        if (version < 3)
        {
            // Schema 3 indexed a user's events (events_by_user) for fold-in; schema 8 drops it again, so a new file
            // skips it.
            Execute(connection, "BEGIN; PRAGMA user_version = 3; COMMIT;");
        }

        if (version < 4)
        {
            // The served items with their positions beside the JSON body, so that a replay of the counters need not
            // decode every ranking. Rows from before have it null and are decoded as before.
            Execute(connection, "BEGIN; ALTER TABLE rankings ADD COLUMN served TEXT; PRAGMA user_version = 4; COMMIT;");
        }

        if (version < 5)
        {
            MigrateToLengthPrefixedItems(connection);
        }

        if (version < 6)
        {
            // The item catalog: a category and numeric attributes per item (a JSON object of numbers).
            Execute(connection, "BEGIN; CREATE TABLE IF NOT EXISTS items(item_id TEXT PRIMARY KEY, category TEXT, attributes TEXT NOT NULL, updated_ticks INTEGER NOT NULL) WITHOUT ROWID; PRAGMA user_version = 6; COMMIT;");
        }

        if (version < 7)
        {
            // Snapshots of the counters, so that a restart replays only the log after the newest one.
            Execute(connection, "BEGIN; CREATE TABLE IF NOT EXISTS snapshots(name TEXT PRIMARY KEY, content BLOB NOT NULL, saved_ticks INTEGER NOT NULL); PRAGMA user_version = 7; COMMIT;");
        }

        if (version < 8)
        {
            // Schema 3's events_by_user goes: user ids arrive in no order, so every appended event dirtied a leaf of
            // its own and the WAL reached its auto-checkpoint (with its fsyncs) about 5x as often; ingestion fell from
            // 4.8 to 30 us per event (docs/performance.md). The server folds users in from memory (UserHistory);
            // ReadUserEventsAsync, for tools, scans the log newest first instead.
            Execute(connection, "BEGIN; DROP INDEX IF EXISTS events_by_user; PRAGMA user_version = 8; COMMIT;");
        }
    }

    /// <summary>
    /// Schema 5: the served items move from the text column <c>served</c> ("position RS id", joined by US, which an
    /// empty list or an id holding a separator broke: such a row stopped every start) to the length-prefixed
    /// <see cref="ImpressionCodec"/> blob <c>items</c>. Each row's items are re-encoded from its JSON body, which was
    /// always exact; a row whose body cannot be decoded keeps <c>items</c> null and is skipped by reads, as before.
    /// </summary>
    private static void MigrateToLengthPrefixedItems(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        using (var add = connection.CreateCommand())
        {
            add.Transaction = transaction;
            add.CommandText = "ALTER TABLE rankings ADD COLUMN items BLOB";
            add.ExecuteNonQuery();
        }

        using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = "SELECT seq, body FROM rankings WHERE seq > $after ORDER BY seq LIMIT 10000";
        var after = select.Parameters.AddWithValue("$after", 0L);
        using var update = connection.CreateCommand();
        update.Transaction = transaction;
        update.CommandText = "UPDATE rankings SET items = $items WHERE seq = $seq";
        var items = update.Parameters.Add("$items", SqliteType.Blob);
        var seq = update.Parameters.Add("$seq", SqliteType.Integer);
        while (true)
        {
            var batch = new List<(long Seq, byte[]? Items)>();
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    byte[]? encoded;
                    try
                    {
                        encoded = ImpressionCodec.Encode([.. LogJson.Deserialize((byte[])reader[1]).Items.Select(i => new Impression(i.ItemId, i.Position))]);
                    }
                    catch (Exception e) when (e is System.Text.Json.JsonException or InvalidCastException or ArgumentException)
                    {
                        encoded = null;
                    }

                    batch.Add((reader.GetInt64(0), encoded));
                }
            }

            if (batch.Count == 0)
            {
                break;
            }

            foreach (var (rowSeq, rowItems) in batch)
            {
                seq.Value = rowSeq;
                items.Value = (object?)rowItems ?? DBNull.Value;
                update.ExecuteNonQuery();
            }

            after.Value = batch[^1].Seq;
        }

        using var finish = connection.CreateCommand();
        finish.Transaction = transaction;
        finish.CommandText = "ALTER TABLE rankings DROP COLUMN served; PRAGMA user_version = 5;";
        finish.ExecuteNonQuery();
        transaction.Commit();
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
