using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Lasthope.Testing;

/// <summary>
/// A throwaway redis-server on a free loopback port, with no persistence (nothing is saved, so a restart starts
/// empty). Tests call <see cref="RequireAsync"/> for the server shared by the test process; a test that stops the
/// server takes one of its own from <see cref="RequireNewAsync"/>. Where redis-server is missing or does not start, the
/// test is skipped with a message saying what to install, or fails under CI (the rule of <see cref="TestData.Require"/>).
/// </summary>
/// <remarks>
/// The server dies with the test process however that ends: a watchdog stops it and deletes its directory (see
/// <see cref="ServerProcess"/>). Not thread-safe: one caller at a time may start, stop or dispose an instance; any
/// number may connect.
/// </remarks>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly Lazy<Task<RedisServer>> Shared = new(StartNewAsync);

    private readonly string _executable;
    private readonly string _directory;
    private ServerProcess? _process;
    private bool _disposed;

    private RedisServer(string executable, string directory, int port)
    {
        _executable = executable;
        _directory = directory;
        Port = port;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>The loopback port the server listens on; the same across <see cref="StopAsync"/> and <see cref="StartAsync"/>.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string: <c>127.0.0.1:PORT</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The server shared by every test in this process, started on first use and stopped when the process exits. Do
    /// not stop or dispose it; keep to keys of your own.
    /// </summary>
    public static Task<RedisServer> RequireAsync() => RequireAsync(Shared.Value);

    /// <summary>A server of the caller's own (to stop and start mid-test); the caller disposes it.</summary>
    public static Task<RedisServer> RequireNewAsync() => RequireAsync(StartNewAsync());

    /// <summary>Starts the server again, empty, on the same port; does nothing if it is running.</summary>
    public async Task StartAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_process is not null)
        {
            return;
        }

        var redis = new Command(_executable,
        [
            "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", _directory,
            "--protected-mode", "yes",
        ]);
        var process = ServerProcess.Start(redis, shutdownSignal: "KILL", _directory);
        try
        {
            await process.WaitUntilReadyAsync(AnswersPingAsync, StartTimeout, "redis-server");
        }
        catch
        {
            process.Dispose();
            throw;
        }

        _process = process;
    }

    /// <summary>Kills the server (as a crash would); connections fail until <see cref="StartAsync"/>. Does nothing if it is stopped.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        await _process.KillAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>Kills the server and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task<RedisServer> RequireAsync(Task<RedisServer> start)
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

    private static async Task<RedisServer> StartNewAsync()
    {
        var executable = ServerProcess.FindOnPath("redis-server")
            ?? throw new ServerProcessException("redis-server is not on PATH. Install it with: apt-get install redis-server");
        var directory = Path.Combine(Path.GetTempPath(), "lasthope-redis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var server = new RedisServer(executable, directory, ServerProcess.FreeLoopbackPort());
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

    /// <summary>True once the server answers PING with PONG (RESP, by hand: no client library needed to wait).</summary>
    private async Task<bool> AnswersPingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
            var pong = "+PONG\r\n"u8.ToArray();
            var reply = new byte[pong.Length];
            var read = await stream.ReadAtLeastAsync(reply, reply.Length, throwOnEndOfStream: false, cancellationToken);
            return reply.AsSpan(0, read).SequenceEqual(pong);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

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
