using System.Globalization;
using System.Net;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Security;

/// <summary>
/// The addresses a server is asked to listen on (<c>--urls</c>, semicolon-separated), parsed before anything binds:
/// an address that does not parse, or a port outside 0-65535, is an error naming it (Kestrel would otherwise fall back
/// to listening on every interface at port 80). Port 0 asks for a free port.
/// </summary>
public static class ListenAddresses
{
    /// <summary>Parses <paramref name="urls"/>; throws <see cref="ArgumentException"/> naming the first bad address.</summary>
    public static IReadOnlyList<Uri> Parse(string urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        var parts = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new ArgumentException("--urls names no address; give one such as http://127.0.0.1:8080.", nameof(urls));
        }

        var addresses = new List<Uri>(parts.Length);
        foreach (var part in parts)
        {
            addresses.Add(ParseOne(part));
        }

        return addresses;
    }

    /// <summary>
    /// True when the address binds only the loopback interface: an IPv4 127.x.x.x or IPv6 ::1 literal, or
    /// "localhost". Wildcards (*, +, 0.0.0.0, [::]) and other host names bind beyond it.
    /// </summary>
    public static bool IsLoopback(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var host = address.Host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    /// <summary>
    /// Refuses, with an <see cref="ArgumentException"/> that says why, to listen beyond loopback without API keys
    /// unless <see cref="SecurityOptions.AllowAnonymous"/> is set.
    /// </summary>
    public static void EnsureAllowed(IReadOnlyList<Uri> addresses, SecurityOptions security)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentNullException.ThrowIfNull(security);
        if (security.KeysConfigured || security.AllowAnonymous)
        {
            return;
        }

        var exposed = addresses.FirstOrDefault(a => !IsLoopback(a));
        if (exposed is not null)
        {
            throw new ArgumentException(
                $"--urls {exposed.OriginalString} listens beyond loopback, and no API key is configured: anyone who reaches the port could "
                + "upload models and post clicks. Configure Lasthope:Security:ApiKeys (see the README's security section), or set "
                + "Lasthope:Security:AllowAnonymous=true to accept that.",
                nameof(addresses));
        }
    }

    private static Uri ParseOne(string text)
    {
        // Kestrel's wildcard hosts are not URI hosts: read them as a placeholder and keep the original text.
        var normalised = text.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalised, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"--urls: '{text}' is not an address such as http://127.0.0.1:8080.", nameof(text));
        }

        // Uri accepts ports up to 65535 and refuses letters; it fills in 80 when none is written, which Kestrel's
        // own parser would do too. Look at the written port so that "host:" or a path is not silently accepted.
        var authority = normalised[(normalised.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/');
        var colon = authority.LastIndexOf(':');
        if (authority.Contains('/', StringComparison.Ordinal) || (colon > authority.LastIndexOf(']') && !int.TryParse(authority.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            throw new ArgumentException($"--urls: '{text}' has no valid port (0 to 65535) or carries a path.", nameof(text));
        }

        return new Uri(text.Contains("://*", StringComparison.Ordinal) || text.Contains("://+", StringComparison.Ordinal) ? normalised : text);
    }
}
