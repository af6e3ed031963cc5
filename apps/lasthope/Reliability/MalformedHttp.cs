using System.Globalization;
using System.Text;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// Malformed HTTP/1.1 that no HTTP client would send: garbage request lines, broken headers, request smuggling
/// shapes, bad chunked framing, literal path traversal, absolute and asterisk forms, bare LF, obsolete folding. Each
/// request is complete as sent (or the connection is half-closed after it), so a server that does not answer it is
/// hanging, not waiting for more.
/// </summary>
internal static class MalformedHttp
{
    /// <summary>A malformed request; <paramref name="index"/> only varies the bodies.</summary>
    public static HostileRequest Request(Random r, int index)
    {
        const string Host = "Host: 127.0.0.1\r\nAuthorization: Bearer " + HostileRequest.KeyToken + "\r\n";
        var rank = HostileRequests.Serialize(HostileRequests.RankBody(r, index), r);
        var json = Encoding.UTF8.GetString(rank);
        var length = rank.Length.ToString(CultureInfo.InvariantCulture);
        var chunk = rank.Length.ToString("x", CultureInfo.InvariantCulture);
        var variant = r.Next(31);
        string? text = variant switch
        {
            0 => null, // random bytes, below
            1 => "GET /v1/status HTTP/1.1\r\n\r\n", // no Host
            2 => $"GET /v1/status HTTP/1.1\r\n{Host}NoColonHere\r\n\r\n",
            3 => $"GET /v1/status HTTP/1.1\r\n{Host}Bad Header: x\r\n\r\n",
            4 => $"GET /v1/status HTTP/1.1\r\n{Host}X-Big: {new string('a', 100_000)}\r\n\r\n",
            5 => $"GET /v1/status HTTP/1.1\r\n{Host}{string.Concat(Enumerable.Range(0, 300).Select(i => $"X-H{i}: v\r\n"))}\r\n",
            6 => $"GET /v1/status HTTP/1.1\r\n{Host}X-Nul: a\0b\r\n\r\n",
            7 => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nContent-Length: {length}\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}\r\n{json}\r\n0\r\n\r\n",
            8 => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{json}\r\n0\r\n\r\n",
            9 => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{json}\r\n0\r\n\r\n",
            10 => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nContent-Length: -1\r\n\r\n{json}",
            11 => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{json}",
            12 => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{json}",
            13 => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nContent-Length: {length}\r\nContent-Length: 3\r\n\r\n{json}",
            14 => "GET /\r\n\r\n", // HTTP/0.9
            15 => $"GET /v1/status HTTP/{(r.Next(3) switch { 0 => "2.0", 1 => "1.2", _ => "9.9" })}\r\n{Host}\r\n",
            16 => $"get /v1/status HTTP/1.1\r\n{Host}\r\n",
            17 => $"GET /v1/items/../../../../etc/passwd/stats HTTP/1.1\r\n{Host}\r\n",
            18 => $"GET /../../../etc/passwd HTTP/1.1\r\n{Host}\r\n",
            19 => $"GET /v1/items/..\\..\\..\\windows\\win.ini/stats HTTP/1.1\r\n{Host}\r\n",
            20 => $"GET http://evil.example/v1/status HTTP/1.1\r\n{Host}\r\n",
            21 => $"{(r.Next(2) == 0 ? "OPTIONS" : "GET")} * HTTP/1.1\r\n{Host}\r\n",
            22 => $"GET /v1/status HTTP/1.1\n{Host.Replace("\r", string.Empty, StringComparison.Ordinal)}\n",
            23 => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{json}",
            24 => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nExpect: {(r.Next(2) == 0 ? "100-continue" : "999-fantasy")}\r\nContent-Length: {length}\r\n\r\n{json}",
            25 => "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n",
            26 => $"GET /v1/status HTTP/1.1\r\n{Host}X-Folded: a\r\n b\r\n\r\n",
            27 => $"GET /v1/status HTTP/1.1\r\n{Host}\r\nGARBAGE {new string('x', 100)}\r\n\r\n", // a pipelined second request
            28 => $"{new string('G', 10_000)} /v1/status HTTP/1.1\r\n{Host}\r\n",
            29 => $"GET  /v1/status\tHTTP/1.1\r\nHost: [::1\r\nHost: other\r\n\r\n",
            _ => $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\nTransfer-Encoding: x\r\n\r\n{chunk}\r\n{json}\r\n0\r\nX-Trailer: \u00ff\r\n\r\n",
        };
        if (text is null)
        {
            var bytes = new byte[r.Next(1, 2_000)];
            r.NextBytes(bytes);
            return new HostileRequest("malformed-http", "RAW", "-") { Wire = [.. bytes, .. "\r\n\r\n"u8], Variant = "random bytes" };
        }

        if (r.Next(10) == 0)
        {
            // Declared longer than sent, then half-closed: the server must see the end, not wait.
            var cut = $"POST /v1/rank HTTP/1.1\r\n{Host}Content-Type: application/json\r\nContent-Length: {(rank.Length * 2).ToString(CultureInfo.InvariantCulture)}\r\n\r\n{json}";
            return new HostileRequest("malformed-http", "RAW", "-") { Wire = Encoding.UTF8.GetBytes(cut), CloseAfterSend = true, Variant = "short body, half-closed" };
        }

        var line = text.Split('\n')[0].TrimEnd('\r');
        return new HostileRequest("malformed-http", "RAW", "-")
        {
            Wire = Encoding.Latin1.GetBytes(text),
            Variant = $"case {variant.ToString(CultureInfo.InvariantCulture)}: {HostileRequest.Printable(Encoding.Latin1.GetBytes(line[..Math.Min(50, line.Length)]))}",
        };
    }
}
