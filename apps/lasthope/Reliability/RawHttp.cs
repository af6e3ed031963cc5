using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lasthope.Cli.Reliability;

/// <summary>How an exchange over a raw connection ended.</summary>
public enum RawOutcome
{
    /// <summary>The server sent a final status line.</summary>
    Answered,

    /// <summary>The server closed (or reset) the connection without a status line.</summary>
    ClosedWithoutAnswer,

    /// <summary>No status line within the time allowed, the connection still open: a hang.</summary>
    Hang,

    /// <summary>The connection could not be made.</summary>
    ConnectFailed,
}

/// <summary>What a raw exchange got: the final status (1xx interim answers skipped), how it ended, how long it took, and the start of the answer.</summary>
public readonly record struct RawAnswer(RawOutcome Outcome, int Status, double Milliseconds, string Head);

/// <summary>
/// HTTP/1.1 over a bare socket: the bytes go on the wire exactly as given, and only the status line (and, for the
/// report, the first few kilobytes) is read back. What the fuzz drill needs to send malformed HTTP and encoded paths
/// that HttpClient would refuse or normalize.
/// </summary>
public static class RawHttp
{
    private const int HeadBytes = 4_096;

    /// <summary>Sends <paramref name="request"/> on a new connection to 127.0.0.1:<paramref name="port"/> and waits at most <paramref name="timeout"/> for a status line.</summary>
    public static async Task<RawAnswer> ExchangeAsync(int port, byte[] request, TimeSpan timeout, bool closeAfterSend = false, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, LingerState = new LingerOption(true, 0) };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), deadline.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new RawAnswer(RawOutcome.ConnectFailed, 0, Stopwatch.GetElapsedTime(started).TotalMilliseconds, e.Message);
        }

        var reading = ReadStatusAsync(socket, deadline.Token);
        try
        {
            await socket.SendAsync(request, SocketFlags.None, deadline.Token);
            if (closeAfterSend)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (SocketException)
        {
            // The server may answer and close before it has read everything (a 413, a 400 on the first bad line).
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        var (outcome, status, head) = await reading;
        return new RawAnswer(outcome, status, Stopwatch.GetElapsedTime(started).TotalMilliseconds, head);
    }

    /// <summary>
    /// Reads until a final (non-1xx) status line, then up to <see cref="HeadBytes"/> more for the report (no longer than
    /// a moment). Used by the drills that stream their own request bodies too.
    /// </summary>
    public static async Task<(RawOutcome Outcome, int Status, string Head)> ReadStatusAsync(Socket socket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var buffer = new byte[HeadBytes];
        var filled = 0;
        var status = 0;
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            }
            catch (SocketException)
            {
                read = 0; // reset
            }
            catch (OperationCanceledException)
            {
                return status > 0 ? (RawOutcome.Answered, status, Head(buffer, filled)) : (RawOutcome.Hang, 0, Head(buffer, filled));
            }

            if (read == 0)
            {
                return status > 0 ? (RawOutcome.Answered, status, Head(buffer, filled)) : (RawOutcome.ClosedWithoutAnswer, 0, Head(buffer, filled));
            }

            filled += read;
            if (status == 0)
            {
                status = FinalStatus(buffer.AsSpan(0, filled));
                if (status < 0)
                {
                    return (RawOutcome.ClosedWithoutAnswer, 0, Head(buffer, filled)); // not HTTP
                }

                if (status > 0 && status < 500)
                {
                    return (RawOutcome.Answered, status, Head(buffer, filled));
                }
            }

            // A 5xx: read on a little, so the report can say what the server said.
            if (status >= 500 && (filled == buffer.Length || buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8) is var end && end >= 0 && filled > end + 4))
            {
                return (RawOutcome.Answered, status, Head(buffer, filled));
            }

            if (filled == buffer.Length)
            {
                return (RawOutcome.ClosedWithoutAnswer, 0, Head(buffer, filled)); // 4 KB without a status line: not HTTP
            }
        }
    }

    /// <summary>The first status line in <paramref name="data"/> that is not 1xx, or 0 when there is none yet.</summary>
    private static int FinalStatus(ReadOnlySpan<byte> data)
    {
        while (true)
        {
            var eol = data.IndexOf((byte)'\n');
            if (eol < 0)
            {
                return 0;
            }

            var line = Encoding.Latin1.GetString(data[..eol]).TrimEnd('\r');
            var parts = line.Split(' ', 3);
            if (parts.Length >= 2 && parts[0].StartsWith("HTTP/", StringComparison.Ordinal) && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                if (status >= 200)
                {
                    return status;
                }

                // An interim answer (100 Continue): skip it and its blank line.
                var blank = data.IndexOf("\r\n\r\n"u8);
                if (blank < 0)
                {
                    return 0;
                }

                data = data[(blank + 4)..];
                continue;
            }

            return -1; // not a status line
        }
    }

    private static string Head(byte[] buffer, int filled) => HostileRequest.Printable(buffer.AsSpan(0, Math.Min(filled, 600)));
}
