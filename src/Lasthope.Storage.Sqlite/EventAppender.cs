using System.Text;
using Lasthope.Core.Events;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Lasthope.Storage.Sqlite;

/// <summary>
/// The event insert as one prepared statement on the writer's connection, bound through SQLitePCLRaw (the library
/// under Microsoft.Data.Sqlite): a row is a reset, eleven binds and a step. Through <see cref="SqliteCommand"/> a row
/// also cost a data reader, a boxed value per number and a UTF-8 array per string, about 1.3 KB and 4-5 us; this is
/// the one hot write, so it gets the lower layer. Strings are encoded as Microsoft.Data.Sqlite encodes them
/// (<see cref="Encoding.UTF8"/>), so rows read back as before.
/// </summary>
internal sealed class EventAppender : IDisposable
{
    private const string Sql = "INSERT OR IGNORE INTO events(seq, event_id, type, weight, item_id, user_id, request_id, time_ticks, segment, position, surface) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private byte[] _utf8 = new byte[256];

    public EventAppender(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        Check(raw.sqlite3_prepare_v2(_db, Sql, out _statement));
    }

    /// <summary>Inserts the event under <paramref name="sequence"/>; false when its event id is already stored.</summary>
    public bool Insert(long sequence, InteractionEvent e)
    {
        var s = _statement;
        try
        {
            Check(raw.sqlite3_bind_int64(s, 1, sequence));
            Text(2, e.EventId);
            Text(3, e.Type);
            Check(raw.sqlite3_bind_double(s, 4, e.Weight));
            Text(5, e.ItemId);
            Text(6, e.UserId);
            Text(7, e.RequestId);
            Check(raw.sqlite3_bind_int64(s, 8, e.Time.UtcTicks));
            Text(9, e.Segment);
            Check(e.Position is { } position ? raw.sqlite3_bind_int64(s, 10, position) : raw.sqlite3_bind_null(s, 10));
            Text(11, e.Surface);
            var rc = raw.sqlite3_step(s);
            if (rc != raw.SQLITE_DONE)
            {
                Check(rc);
            }

            return raw.sqlite3_changes(_db) == 1;
        }
        finally
        {
            raw.sqlite3_reset(s);
        }
    }

    public void Dispose() => _statement.Dispose();

    private void Text(int index, string? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(_statement, index));
            return;
        }

        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (length > _utf8.Length)
        {
            _utf8 = new byte[Math.Max(length, _utf8.Length * 2)];
        }

        var written = Encoding.UTF8.GetBytes(value, _utf8);
        Check(raw.sqlite3_bind_text(_statement, index, _utf8.AsSpan(0, written))); // SQLite copies it (SQLITE_TRANSIENT)
    }

    private void Check(int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException($"SQLite Error {rc}: '{raw.sqlite3_errmsg(_db).utf8_to_string()}'.", rc);
        }
    }
}
