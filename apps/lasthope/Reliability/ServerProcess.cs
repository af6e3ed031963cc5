using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Lasthope.Cli.Reliability;

/// <summary>The server could not be started (it exited, or did not answer /health/live in time).</summary>
public sealed class ServerStartException(string message) : Exception(message);

/// <summary>
/// A real <c>lasthope serve</c> child process on a free loopback port: the executable of this very process
/// (<c>dotnet lasthope.dll serve ...</c>), so the suite tests the build it belongs to. The drills SIGKILL it, stop it
/// with SIGTERM as a service manager would, and read its resident memory from /proc.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>The longest a start may take before it counts as failed.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private const int KeptLines = 40;

    private readonly Process _process;
    private const int KeptFailures = 20;

    private readonly Queue<string> _lines;
    private readonly List<string> _failures;
    private bool _disposed;

    private ServerProcess(Process process, Queue<string> lines, List<string> failures, Uri baseAddress, string apiKey, TimeSpan startupTime)
    {
        _process = process;
        _lines = lines;
        _failures = failures;
        BaseAddress = baseAddress;
        StartupTime = startupTime;
        Http = CreateClient(baseAddress, apiKey);
    }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public int Pid => _process.Id;

    /// <summary>From spawning the process to its first 200 from /health/live.</summary>
    public TimeSpan StartupTime { get; }

    /// <summary>A client for this server that sends the drill's API key on every request. Its own timeout is 30 s; drills pass tighter tokens.</summary>
    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The path of the lasthope.dll this process runs (the executable under test).</summary>
    public static string Executable => typeof(ServerProcess).Assembly.Location;

    /// <summary>The first distinct error lines the server logged ("fail:" and "crit:"), for the report.</summary>
    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_lines)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>The last lines the server wrote (standard output and error), for failure messages.</summary>
    public string RecentOutput
    {
        get
        {
            lock (_lines)
            {
                return string.Join(Environment.NewLine, _lines);
            }
        }
    }

    /// <summary>Starts a server on <paramref name="dataDirectory"/> and waits until /health/live answers 200.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, string configFile, string apiKey, CancellationToken cancellationToken)
    {
        // A free port can be taken between our probe and the child's bind: try another one, a few times.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var lines = new Queue<string>();
            var failures = new List<string>();
            var started = Stopwatch.GetTimestamp();
            var process = Spawn(dataDirectory, configFile, port, lines, failures);
            var address = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
            try
            {
                await WaitUntilLiveAsync(process, address, lines, cancellationToken);
                return new ServerProcess(process, lines, failures, address, apiKey, Stopwatch.GetElapsedTime(started));
            }
            catch (ServerStartException) when (attempt < 3 && process.HasExited && Tail(lines).Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                process.Dispose();
            }
            catch
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }

                process.Dispose();
                throw;
            }
        }
    }

    /// <summary>The child's resident set size (VmRSS of /proc/PID/status), or null where there is no /proc or the process is gone.</summary>
    public long? RssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Pid.ToString(CultureInfo.InvariantCulture)}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>SIGKILL: no chance to flush or shut down. Returns when the process is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>
    /// SIGTERM, as a service manager stops a service: the server flushes its impression log and exits. Not SIGINT: a
    /// process started in the background by a non-interactive shell (a CI script, nohup) inherits SIGINT ignored, and
    /// .NET keeps it ignored, so Ctrl+C's signal would never arrive; SIGTERM always does. Returns its exit code, or null when it did
    /// not exit within <paramref name="timeout"/> (it is then SIGKILLed).
    /// </summary>
    public async Task<int?> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited && NativeMethods.Kill(_process.Id, NativeMethods.SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill(SIGTERM) failed with errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }

        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Http.Dispose();
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private static Process Spawn(string dataDirectory, string configFile, int port, Queue<string> lines, List<string> failures)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Executable, "serve", "--data", dataDirectory, "--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--config", configFile, "--log-level", "Warning" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(info) ?? throw new ServerStartException("the server process did not start");
        DataReceivedEventHandler keep = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            var line = e.Data.Length > 500 ? e.Data[..500] + "..." : e.Data;
            lock (lines)
            {
                if ((line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal)) &&
                    failures.Count < KeptFailures && !failures.Contains(line))
                {
                    failures.Add(line);
                }

                lines.Enqueue(line);
                while (lines.Count > KeptLines)
                {
                    lines.Dequeue();
                }
            }
        };
        process.OutputDataReceived += keep;
        process.ErrorDataReceived += keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The dotnet host that runs this process, so the child runs on the same runtime.</summary>
    internal static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return "dotnet";
    }

    private static async Task WaitUntilLiveAsync(Process process, Uri address, Queue<string> lines, CancellationToken cancellationToken)
    {
        using var probe = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(2) }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < StartTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                await process.WaitForExitAsync(CancellationToken.None); // the last lines of its output
                throw new ServerStartException($"the server exited with code {process.ExitCode.ToString(CultureInfo.InvariantCulture)} before it answered /health/live: {LastLines(lines)}");
            }

            try
            {
                using var response = await probe.GetAsync("/health/live", cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new ServerStartException($"the server did not answer /health/live within {StartTimeout.TotalSeconds:F0} s: {LastLines(lines)}");
    }

    private static string Tail(Queue<string> lines)
    {
        lock (lines)
        {
            return string.Join('\n', lines);
        }
    }

    private static string LastLines(Queue<string> lines)
    {
        var tail = Tail(lines).Split('\n');
        return string.Join(" | ", tail.Skip(Math.Max(0, tail.Length - 6)));
    }

    private static HttpClient CreateClient(Uri address, string apiKey)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            MaxConnectionsPerServer = 256,
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        };
        var client = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
