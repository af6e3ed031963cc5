using Lasthope.Core.Storage;
using Npgsql;

namespace Lasthope.Storage.Postgres;

/// <summary>
/// The schema as numbered migrations, applied in order in one transaction each, under an advisory lock so that replicas
/// starting together do not race; the version reached is kept in <c>lasthope_schema</c>. A database of a newer version
/// is refused.
/// </summary>
/// <remarks>
/// Ids, segments and surfaces are <c>bytea</c> (their UTF-8 bytes), not <c>text</c>: PostgreSQL's text cannot hold
/// U+0000, and the store promises to keep every string exactly. Sequence numbers come from the one row of
/// <c>log_head</c>: an append takes its range there and holds the row's lock until it commits, so appends commit in
/// sequence order and a reader always sees a prefix of the log (see <see cref="PostgresEventStore"/>).
/// </remarks>
internal static class PostgresSchema
{
    /// <summary>The schema this code writes.</summary>
    public const int Version = 1;

    /// <summary>The advisory lock key of migrations ("lasthope" in ASCII, as a number).</summary>
    private const long MigrationLock = 0x6c61737468_6f7065;

    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE log_head(id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL);
        INSERT INTO log_head VALUES (1, 0);
        CREATE TABLE rankings(
            seq bigint PRIMARY KEY,
            request_id bytea NOT NULL UNIQUE,
            time_ticks bigint NOT NULL,
            user_id bytea,
            segment bytea NOT NULL,
            surface bytea NOT NULL,
            item_count int NOT NULL,
            body bytea NOT NULL,
            items bytea NOT NULL);
        CREATE TABLE events(
            seq bigint PRIMARY KEY,
            event_id bytea NOT NULL UNIQUE,
            type bytea NOT NULL,
            weight double precision NOT NULL,
            item_id bytea NOT NULL,
            user_id bytea,
            request_id bytea,
            time_ticks bigint NOT NULL,
            segment bytea NOT NULL,
            position int,
            surface bytea);
        CREATE INDEX events_by_user ON events(user_id, seq);
        CREATE INDEX rankings_by_time ON rankings(time_ticks);
        CREATE INDEX events_by_time ON events(time_ticks);
        CREATE TABLE users(user_id bytea PRIMARY KEY, segment bytea NOT NULL);
        CREATE TABLE settings(key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE models(
            version text PRIMARY KEY,
            surface text NOT NULL,
            kind text NOT NULL,
            feature_names text NOT NULL,
            fingerprint text NOT NULL,
            parameters text,
            trained_from bigint,
            trained_to bigint,
            metrics text,
            registered_at bigint NOT NULL,
            content bytea NOT NULL);
        CREATE TABLE active_models(surface text PRIMARY KEY, version text NOT NULL);
        CREATE TABLE items(item_id bytea PRIMARY KEY, category bytea, attributes text NOT NULL, updated_ticks bigint NOT NULL);
        CREATE TABLE snapshots(name text PRIMARY KEY, content bytea NOT NULL, saved_at timestamptz NOT NULL);
        """,
    ];

    /// <summary>The version of the schema in the database, or 0 when it has none.</summary>
    public static int Current(NpgsqlConnection connection)
    {
        using var exists = new NpgsqlCommand("SELECT to_regclass('lasthope_schema') IS NOT NULL", connection);
        if (!(bool)exists.ExecuteScalar()!)
        {
            return 0;
        }

        using var version = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM lasthope_schema", connection);
        return Convert.ToInt32(version.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Applies the migrations the database lacks.</summary>
    public static void Migrate(NpgsqlConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLock}); CREATE TABLE IF NOT EXISTS lasthope_schema(version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());", connection, transaction))
        {
            lockCommand.ExecuteNonQuery();
        }

        var version = Current(connection);
        if (version > Version)
        {
            throw new StoreUnavailableException($"The database has Lasthope schema version {version}, newer than this build's {Version}: upgrade Lasthope.");
        }

        for (var next = version + 1; next <= Version; next++)
        {
            using var migrate = new NpgsqlCommand(Migrations[next - 1] + $"; INSERT INTO lasthope_schema(version) VALUES ({next});", connection, transaction);
            migrate.ExecuteNonQuery();
        }

        transaction.Commit();
    }
}
