using System.Globalization;
using Npgsql;

namespace Lasthope.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster on a free loopback port: its own data directory under the temp folder, trust
/// authentication for the superuser <c>lasthope</c> on 127.0.0.1, and durability off (it is deleted afterwards).
/// Tests call <see cref="RequireAsync"/> for the cluster shared by the test process and <see cref="CreateDatabaseAsync"/>
/// for an empty database of their own; a test that stops the server takes a cluster of its own from
/// <see cref="RequireNewAsync"/>. Where the binaries are missing or the cluster does not start, the test is skipped with
/// a message saying what to install, or fails under CI (the rule of <see cref="TestData.Require"/>).
/// </summary>
/// <remarks>
/// As root (this machine and CI), initdb and postgres run as the <c>postgres</c> account Debian's package creates (else
/// <c>nobody</c>), since PostgreSQL refuses to run as root. The server dies with the test process however that ends: a
/// watchdog stops it and deletes the directory (see <see cref="ServerProcess"/>). Not thread-safe: one caller at a
/// time may start, stop or dispose an instance; any number may create databases and connect.
/// </remarks>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Superuser = "lasthope";
    // How long the server may take to accept connections, or to stop.
    private static readonly TimeSpan ServerWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartNewAsync);

    private readonly string _binDirectory;
    private readonly string _directory;
    private readonly UnixUser? _owner;
    private readonly string _adminConnectionString;
    private ServerProcess? _process;
    private bool _disposed;

    private PostgresServer(string binDirectory, string directory, UnixUser? owner, int port)
    {
        _binDirectory = binDirectory;
        _directory = directory;
        _owner = owner;
        Port = port;
        ConnectionString = ConnectionStringFor("postgres");
        // Unpooled, so the harness's own connections never outlive a stop.
        _adminConnectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>The loopback port the server listens on; the same across <see cref="StopAsync"/> and <see cref="StartAsync"/>.</summary>
    public int Port { get; }

    /// <summary>An Npgsql connection string for the superuser on the <c>postgres</c> database.</summary>
    public string ConnectionString { get; }

    private string DataDirectory => Path.Combine(_directory, "data");

    private string SocketDirectory => Path.Combine(_directory, "socket");

    /// <summary>
    /// The cluster shared by every test in this process, started on first use and stopped when the process exits. Do
    /// not stop or dispose it; take a database of your own with <see cref="CreateDatabaseAsync"/>.
    /// </summary>
    public static Task<PostgresServer> RequireAsync() => RequireAsync(Shared.Value);

    /// <summary>A cluster of the caller's own (to stop and start mid-test); the caller disposes it.</summary>
    public static Task<PostgresServer> RequireNewAsync() => RequireAsync(StartNewAsync());

    /// <summary>
    /// Creates an empty database (named <paramref name="name"/>, else a fresh unique name) and returns the connection
    /// string for it.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= "test_" + Guid.NewGuid().ToString("N");
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionStringFor(name);
    }

    /// <summary>Starts the server again on the same port and data directory; does nothing if it is running.</summary>
    public async Task StartAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_process is not null)
        {
            return;
        }

        var postgres = new Command(Path.Combine(_binDirectory, "postgres"),
        [
            "-D", DataDirectory,
            "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1",
            "-c", $"unix_socket_directories={SocketDirectory}",
            // The cluster is thrown away after the tests, so durability buys nothing and costs time.
            "-c", "fsync=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=200",
        ]);
        var process = ServerProcess.Start(postgres.As(_owner), shutdownSignal: "QUIT", _directory);
        try
        {
            await process.WaitUntilReadyAsync(AcceptsConnectionsAsync, ServerWait, "postgres");
        }
        catch
        {
            process.Dispose();
            throw;
        }

        _process = process;
    }

    /// <summary>
    /// Stops the server (fast shutdown: sessions are ended, data kept); connections fail until <see cref="StartAsync"/>.
    /// Pooled connections of the tests' own are broken by this; Npgsql discards them when next used. Does nothing if
    /// the server is stopped.
    /// </summary>
    public Task StopAsync() => StopAsync("fast");

    /// <summary>Stops the server at once and deletes its data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        await StopAsync("immediate");
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task<PostgresServer> RequireAsync(Task<PostgresServer> start)
    {
        try
        {
            return await start;
        }
        catch (ServerProcessException e)
        {
            throw Prerequisite.Missing(e.Message);
        }
    }

    private static async Task<PostgresServer> StartNewAsync()
    {
        var binDirectory = await FindBinDirectoryAsync();
        var owner = Environment.IsPrivilegedProcess
            ? await UnixUser.FindFirstAsync("postgres", "nobody")
                ?? throw new ServerProcessException("Running as root, but neither a 'postgres' nor a 'nobody' account exists to run PostgreSQL as.")
            : null;
        if (owner is not null && ServerProcess.FindOnPath("setpriv") is null)
        {
            throw new ServerProcessException("setpriv is not on PATH; it runs PostgreSQL as a non-root user. Install it with: apt-get install util-linux");
        }

        var directory = Path.Combine(Path.GetTempPath(), "lasthope-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(directory, "socket"));
        try
        {
            if (owner is not null)
            {
                await ServerProcess.RunToSuccessAsync(new Command("chown", ["-R", $"{owner.Uid}:{owner.Gid}", directory]), CommandTimeout);
            }

            var initdb = new Command(Path.Combine(binDirectory, "initdb"),
            [
                "-D", Path.Combine(directory, "data"), "-U", Superuser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
            ]);
            await ServerProcess.RunToSuccessAsync(initdb.As(owner), CommandTimeout);

            // Chosen after initdb, the slow step, so that the port is still free when postgres binds it.
            var server = new PostgresServer(binDirectory, directory, owner, ServerProcess.FreeLoopbackPort());
            try
            {
                await server.StartAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }

            return server;
        }
        catch (ServerProcessException)
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            throw;
        }
    }

    /// <summary><c>pg_config --bindir</c> if it holds the server binaries, else the newest /usr/lib/postgresql/*/bin.</summary>
    private static async Task<string> FindBinDirectoryAsync()
    {
        var candidates = new List<string>();
        if (ServerProcess.FindOnPath("pg_config") is { } pgConfig)
        {
            var (exitCode, output) = await ServerProcess.RunAsync(new Command(pgConfig, ["--bindir"]), CommandTimeout);
            if (exitCode == 0)
            {
                candidates.Add(output);
            }
        }

        const string DebianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(DebianRoot))
        {
            candidates.AddRange(Directory.GetDirectories(DebianRoot)
                .OrderByDescending(version => double.TryParse(Path.GetFileName(version), CultureInfo.InvariantCulture, out var number) ? number : -1)
                .Select(version => Path.Combine(version, "bin")));
        }

        return candidates.FirstOrDefault(bin => new[] { "initdb", "postgres", "pg_ctl" }.All(name => File.Exists(Path.Combine(bin, name))))
            ?? throw new ServerProcessException(
                $"PostgreSQL server binaries (initdb, postgres, pg_ctl) not found in `pg_config --bindir` nor {DebianRoot}/*/bin. Install them with: apt-get install postgresql");
    }

    private async Task StopAsync(string mode)
    {
        if (_process is null)
        {
            return;
        }

        var pgCtl = new Command(Path.Combine(_binDirectory, "pg_ctl"),
            ["stop", "-D", DataDirectory, "-m", mode, "-w", "-t", ServerWait.TotalSeconds.ToString(CultureInfo.InvariantCulture)]);
        await ServerProcess.RunAsync(pgCtl.As(_owner), CommandTimeout);
        if (!await _process.WaitForExitAsync(ServerWait))
        {
            // pg_ctl could not stop it; a throwaway cluster can be killed instead.
            await _process.KillAsync();
        }

        _process.Dispose();
        _process = null;
    }

    private async Task<bool> AcceptsConnectionsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(_adminConnectionString);
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (NpgsqlException)
        {
            // Refused while it starts, or "the database system is starting up".
            return false;
        }
    }

    private string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Database = database,
    }.ConnectionString;

    private void OnProcessExit(object? sender, EventArgs e)
    {
        try
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (Exception failure) when (failure is ServerProcessException or IOException or UnauthorizedAccessException)
        {
            // Throwing here would crash a test run that passed; the watchdog stops the server and deletes what is left.
        }
    }
}
