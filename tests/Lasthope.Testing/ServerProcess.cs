using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Lasthope.Testing;

/// <summary>A server the tests need could not be found, started or stopped; the message says why.</summary>
internal sealed class ServerProcessException(string message) : Exception(message);

/// <summary>
/// A server child process (postgres, redis-server) started by the tests. Its output is kept as a short tail for error
/// messages. A watchdog (a tiny shell reading a pipe only this process holds) stops the server and removes its
/// directory when the test process ends by any means, SIGKILL included, so no server outlives its tests.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private const int TailLines = 40;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    // $1 signal, $2 server pid, $3 directory. `read` returns at EOF, when the test process has gone; the server gets
    // its shutdown signal, up to 10 s to exit, then SIGKILL.
    private const string WatchdogScript =
        """
        exec 2>/dev/null
        read -r _
        kill -s "$1" "$2"
        i=0
        while kill -0 "$2" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -s KILL "$2"
        rm -rf "$3"
        """;

    private readonly Process _server;
    private readonly Process _watchdog;
    private readonly Queue<string> _tail = new();

    private ServerProcess(Process server, Process watchdog)
    {
        _server = server;
        _watchdog = watchdog;
    }

    public bool HasExited => _server.HasExited;

    /// <summary>The last lines the server wrote to stdout and stderr.</summary>
    public string OutputTail
    {
        get
        {
            lock (_tail)
            {
                return string.Join('\n', _tail);
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="command"/>; when the test process ends, the watchdog sends the server
    /// <paramref name="shutdownSignal"/> (a kill(1) name) and deletes <paramref name="directory"/>.
    /// </summary>
    public static ServerProcess Start(Command command, string shutdownSignal, string directory)
    {
        var server = new Process { StartInfo = command.ToStartInfo() };
        server.Start();
        var watchdog = Process.Start(new Command("sh", ["-c", WatchdogScript, "watchdog", shutdownSignal, server.Id.ToString(CultureInfo.InvariantCulture), directory])
            .ToStartInfo(redirectInput: true))!;
        var started = new ServerProcess(server, watchdog);
        server.OutputDataReceived += (_, e) => started.Keep(e.Data);
        server.ErrorDataReceived += (_, e) => started.Keep(e.Data);
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        return started;
    }

    /// <summary>
    /// Polls <paramref name="isReady"/> until it returns true. Throws (after killing the server) if the server exits
    /// first or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task WaitUntilReadyAsync(Func<CancellationToken, Task<bool>> isReady, TimeSpan timeout, string name)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (!await isReady(deadline.Token))
            {
                if (_server.HasExited)
                {
                    await WaitForExitAsync(ExitWait);
                    throw new ServerProcessException($"{name} exited with code {_server.ExitCode} before accepting connections:\n{OutputTail}");
                }

                await Task.Delay(PollInterval, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            await KillAsync();
            throw new ServerProcessException($"{name} did not accept connections within {timeout.TotalSeconds:0} s:\n{OutputTail}");
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the server to exit; true if it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _server.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The server's exit code, once it has exited.</summary>
    public int ExitCode => _server.ExitCode;

    /// <summary>Sends the server <paramref name="signal"/> (a kill(1) name), as a service manager stops a service with TERM.</summary>
    public Task SignalAsync(string signal) =>
        RunToSuccessAsync(new Command("kill", ["-s", signal, _server.Id.ToString(CultureInfo.InvariantCulture)]), ExitWait);

    /// <summary>Kills the server and its children, and waits (bounded) until it has gone.</summary>
    public async Task KillAsync()
    {
        _server.Kill(entireProcessTree: true);
        if (!await WaitForExitAsync(ExitWait))
        {
            throw new ServerProcessException($"{_server.StartInfo.FileName} (pid {_server.Id}) survived SIGKILL for {ExitWait.TotalSeconds:0} s.");
        }
    }

    /// <summary>Retires the watchdog; the caller has already stopped the server.</summary>
    public void Dispose()
    {
        // Gone before its pipe closes, or it would take the close for the test process's end and delete the directory
        // a restart needs.
        _watchdog.Kill();
        _watchdog.WaitForExit(ExitWait);
        _watchdog.Dispose();
        _server.Dispose();
    }

    /// <summary>Runs a short command to its end (bounded by <paramref name="timeout"/>); returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(Command command, TimeSpan timeout)
    {
        using var process = Process.Start(command.ToStartInfo())!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new ServerProcessException($"{command} did not finish within {timeout.TotalSeconds:0} s.");
        }

        return (process.ExitCode, (await stdout + await stderr).Trim());
    }

    /// <summary>Runs a short command and returns its output; throws, naming the command and its output, if it fails.</summary>
    public static async Task<string> RunToSuccessAsync(Command command, TimeSpan timeout)
    {
        var (exitCode, output) = await RunAsync(command, timeout);
        return exitCode == 0 ? output : throw new ServerProcessException($"{command} exited with code {exitCode}:\n{output}");
    }

    /// <summary>A loopback port nobody listens on now (the OS picks it), for a server about to start.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The full path of <paramref name="name"/> on PATH, or null.</summary>
    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_tail)
        {
            if (_tail.Count == TailLines)
            {
                _tail.Dequeue();
            }

            _tail.Enqueue(line);
        }
    }
}

/// <summary>A program and its arguments, passed as a list (no shell quoting).</summary>
internal sealed record Command(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>Environment variables set for the program, on top of this process's own; a null value removes one.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>This command run with the real and effective ids of <paramref name="user"/>, or as is when null.</summary>
    public Command As(UnixUser? user) => user is null
        ? this
        : new Command("setpriv", [$"--reuid={user.Uid}", $"--regid={user.Gid}", "--clear-groups", "--", FileName, .. Arguments]);

    public ProcessStartInfo ToStartInfo(bool redirectInput = false)
    {
        var info = new ProcessStartInfo(FileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = redirectInput,
            // Captured so a server's log never lands in the test runner's own output.
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in Environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        return info;
    }

    public override string ToString() => string.Join(' ', [FileName, .. Arguments]);
}

/// <summary>An unprivileged account to run a server as, since PostgreSQL refuses to run as root.</summary>
internal sealed record UnixUser(string Name, string Uid, string Gid)
{
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The first of <paramref name="names"/> that exists on this machine, or null.</summary>
    public static async Task<UnixUser?> FindFirstAsync(params string[] names)
    {
        foreach (var name in names)
        {
            var (uidExit, uid) = await ServerProcess.RunAsync(new Command("id", ["-u", name]), LookupTimeout);
            var (gidExit, gid) = await ServerProcess.RunAsync(new Command("id", ["-g", name]), LookupTimeout);
            if (uidExit == 0 && gidExit == 0)
            {
                return new UnixUser(name, uid, gid);
            }
        }

        return null;
    }
}
