using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Lasthope.Server.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lasthope.Server.Security;

/// <summary>
/// The configured keys, by the SHA-256 of their secret. A presented key is hashed and compared with every configured
/// hash in constant time (<see cref="CryptographicOperations.FixedTimeEquals"/>), all of them, so neither the time
/// of a comparison nor the position of the match tells an attacker anything.
/// </summary>
public sealed class ApiKeyTable
{
    /// <summary>Longest secret looked at; a longer one is refused without hashing.</summary>
    public const int MaxKeyLength = 4096;

    private readonly (byte[] Hash, string Name, string[] Scopes)[] _keys;

    public ApiKeyTable(SecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _keys = [.. options.ApiKeys.Select((k, i) => (k.Hash(), k.NameAt(i), k.Scopes.ToArray()))];
    }

    /// <summary>No keys are configured: every request is allowed.</summary>
    public bool Open => _keys.Length == 0;

    /// <summary>The key's name and scopes, or null when <paramref name="presented"/> is no configured key.</summary>
    public (string Name, string[] Scopes)? Find(ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty || presented.Length > MaxKeyLength)
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = new byte[Encoding.UTF8.GetByteCount(presented)];
        Encoding.UTF8.GetBytes(presented, bytes);
        SHA256.HashData(bytes, hash);
        (string, string[])? found = null;
        foreach (var key in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash))
            {
                found = (key.Name, key.Scopes);
            }
        }

        return found;
    }
}

/// <summary>
/// <c>Authorization: Bearer KEY</c>. A missing or unknown key is 401 and a key without the endpoint's scope is 403,
/// both as problem details. Without configured keys every request is authenticated as "anonymous" with every
/// scope: the server then listens on loopback only (see <see cref="ListenAddresses"/>).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyTable keys, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    /// <summary>The claim holding one scope of the key.</summary>
    public const string ScopeClaim = "scope";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (keys.Open)
        {
            return Task.FromResult(Success("anonymous", Scopes.All));
        }

        var header = Request.Headers.Authorization;
        if (header.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var value = header.Count == 1 ? header[0].AsSpan() : [];
        if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("The Authorization header must be one 'Bearer KEY'."));
        }

        return Task.FromResult(keys.Find(value["Bearer ".Length..].Trim()) is { } key
            ? Success(key.Name, key.Scopes)
            : AuthenticateResult.Fail("The API key is not one this server knows."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        await WriteAsync(StatusCodes.Status401Unauthorized, "Unauthorized", failure ?? "This endpoint needs an API key: send 'Authorization: Bearer KEY'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        var needed = Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>().FirstOrDefault() ?? "another";
        return WriteAsync(StatusCodes.Status403Forbidden, "Forbidden", $"The key '{Context.User.Identity?.Name}' lacks the scope '{needed}' this endpoint needs.");
    }

    private static AuthenticateResult Success(string name, IEnumerable<string> scopes)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), .. scopes.Select(s => new Claim(ScopeClaim, s))], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private async Task WriteAsync(int status, string title, string detail)
    {
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}

/// <summary>Registration and endpoint conventions of the access rules.</summary>
public static class AccessRules
{
    /// <summary>The policy of reads that need a key of any scope (status, the model list, protected metrics).</summary>
    public const string AnyKey = "any-key";

    public static IServiceCollection AddApiKeys(this IServiceCollection services)
    {
        services.AddSingleton(sp => new ApiKeyTable(sp.GetRequiredService<SecurityOptions>()));
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        var authorization = services.AddAuthorizationBuilder()
            .AddPolicy(AnyKey, p => p.RequireAuthenticatedUser())
            // An endpoint that names no policy still needs a key: a new endpoint is closed until it says otherwise.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        foreach (var scope in Scopes.All)
        {
            authorization.AddPolicy(scope, p => p.RequireClaim(ApiKeyAuthenticationHandler.ScopeClaim, scope));
        }

        return services;
    }

    /// <summary>The endpoint needs a key with <paramref name="scope"/> (one of <see cref="Scopes"/>).</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope)
        where TBuilder : IEndpointConventionBuilder
        => builder.RequireAuthorization(scope);
}
