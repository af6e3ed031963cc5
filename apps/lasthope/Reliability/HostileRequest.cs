using System.Globalization;
using System.Text;

namespace Lasthope.Cli.Reliability;

/// <summary>What a hostile request sends in its Authorization header.</summary>
public enum AuthMode
{
    /// <summary>The drill's key, with every scope: the request is refused for what it is, not for who sent it.</summary>
    Key,

    None,
    WrongKey,
    Malformed,
}

/// <summary>
/// One hostile request of the fuzz drill, as bytes for the wire: either a request built from its parts (method,
/// target, content type, body; the target is sent exactly as written, so encoded traversal and bad escapes reach the
/// server unchanged) or <see cref="Wire"/>, malformed HTTP that no HTTP client would send.
/// </summary>
public sealed record HostileRequest(string Kind, string Method, string Target, string? ContentType = null, byte[]? Body = null)
{
    /// <summary>Stands for the drill's API key inside <see cref="Wire"/>.</summary>
    public const string KeyToken = "@@KEY@@";

    private static readonly byte[] KeyTokenBytes = Encoding.ASCII.GetBytes(KeyToken);

    /// <summary>The request as raw bytes, for malformed HTTP (<see cref="KeyToken"/> is replaced by the key); null for requests built from their parts.</summary>
    public byte[]? Wire { get; init; }

    public AuthMode Auth { get; init; } = AuthMode.Key;

    /// <summary>Which form of its kind the request takes (a malformed-HTTP case, a content type, a garbage-model form), to group answers by.</summary>
    public string? Variant { get; init; }

    /// <summary>What requests alike share: kind, variant, method and path without the query.</summary>
    public string Signature => $"{Kind}{(Variant is null ? string.Empty : $" ({Variant})")}: {Method} {(Wire is not null ? "(raw)" : Target.Split('?')[0] is var path && path.Length > 60 ? path[..60] + "..." : path)}";

    /// <summary>Extra header lines ("Name: value"), sent as they are.</summary>
    public IReadOnlyList<string> Headers { get; init; } = [];

    /// <summary>Half-close after sending (the body is shorter than declared: the server must not wait for the rest).</summary>
    public bool CloseAfterSend { get; init; }

    /// <summary>The bytes to send.</summary>
    public byte[] ToWire(string apiKey, int port)
    {
        if (Wire is not null)
        {
            var at = Wire.AsSpan().IndexOf(KeyTokenBytes);
            return at < 0 ? Wire : [.. Wire.AsSpan(0, at), .. Encoding.ASCII.GetBytes(apiKey), .. Wire.AsSpan(at + KeyTokenBytes.Length)];
        }

        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{Method} {Target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
        switch (Auth)
        {
            case AuthMode.Key:
                head.Append(CultureInfo.InvariantCulture, $"Authorization: Bearer {apiKey}\r\n");
                break;
            case AuthMode.WrongKey:
                head.Append("Authorization: Bearer not-the-key\r\n");
                break;
            case AuthMode.Malformed:
                head.Append(CultureInfo.InvariantCulture, $"Authorization: Basic {apiKey}\r\n");
                break;
            case AuthMode.None:
                break;
        }

        if (ContentType is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Type: {ContentType}\r\n");
        }

        foreach (var header in Headers)
        {
            head.Append(header).Append("\r\n");
        }

        if (Body is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {Body.Length}\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        var headBytes = Encoding.UTF8.GetBytes(head.ToString());
        return Body is null ? headBytes : [.. headBytes, .. Body];
    }

    /// <summary>A short, printable description for the report: kind, method, target and the start of the body.</summary>
    public string Describe()
    {
        if (Wire is not null)
        {
            return $"{Kind}: {Printable(Wire.AsSpan(0, Math.Min(Wire.Length, 160)))}{(Wire.Length > 160 ? $"... ({Wire.Length:N0} bytes)" : string.Empty)}";
        }

        var body = Body is null ? string.Empty : $" body {Body.Length:N0} bytes: {Printable(Body.AsSpan(0, Math.Min(Body.Length, 120)))}{(Body.Length > 120 ? "..." : string.Empty)}";
        var target = Target.Length > 120 ? $"{Target[..120]}... ({Target.Length:N0} chars)" : Target;
        return $"{Kind}: {Method} {target}{(ContentType is null ? string.Empty : $" [{ContentType}]")}{(Auth == AuthMode.Key ? string.Empty : $" auth={Auth}")}{body}";
    }

    /// <summary>Bytes as text, with anything not printable ASCII as \xNN.</summary>
    public static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and < 0x7f)
            {
                text.Append((char)b);
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{b:x2}");
            }
        }

        return text.ToString();
    }
}
