using System.Globalization;
using Lasthope.Core.Identifiers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lasthope.Server.Api;

/// <summary>
/// Reads query and route parameters as text and validates them here, so that a bad one is a 400 naming it
/// (<c>query.count</c>, <c>route.requestId</c>) rather than a binding failure without a field. Collects errors by name.
/// </summary>
public sealed class Parameters
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool Valid => _errors.Count == 0;

    public IReadOnlyDictionary<string, string[]> Errors => _errors;

    /// <summary>An integer query parameter in [<paramref name="min"/>, <paramref name="max"/>], or the default when absent.</summary>
    public int WholeNumber(string name, string? value, int fallback, int min, int max)
    {
        if (value is null)
        {
            return fallback;
        }

        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) || parsed < min || parsed > max)
        {
            Add($"query.{name}", $"{name} must be a whole number from {min} to {max}.");
            return fallback;
        }

        return parsed;
    }

    /// <summary>A boolean query parameter (true/false, 1/0), or false when absent.</summary>
    public bool Bool(string name, string? value)
    {
        switch (value?.ToLowerInvariant())
        {
            case null or "false" or "0":
                return false;
            case "true" or "1" or "":
                return true;
            default:
                Add($"query.{name}", $"{name} must be true or false.");
                return false;
        }
    }

    /// <summary>An id given in the route or the query (<paramref name="field"/> is "route.x" or "query.x"), checked as every id is.</summary>
    public string? Id(string field, string? value, bool required = true)
    {
        if (value is null && !required)
        {
            return null;
        }

        if (Ids.Problem(value) is { } problem)
        {
            Add(field, $"{field[(field.IndexOf('.', StringComparison.Ordinal) + 1)..]} {problem}.");
            return null;
        }

        return value;
    }

    /// <summary>One of the <paramref name="allowed"/> values, or the first of them when absent.</summary>
    public string OneOf(string name, string? value, params string[] allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        if (value is null)
        {
            return allowed[0];
        }

        if (!allowed.Contains(value, StringComparer.Ordinal))
        {
            Add($"query.{name}", $"{name} is one of {string.Join(", ", allowed)}.");
            return allowed[0];
        }

        return value;
    }

    public void Add(string field, string message) => _errors[field] = [message];

    /// <summary>The 400 problem for the collected errors.</summary>
    public ValidationProblem Problem(string title) => TypedResults.ValidationProblem(_errors, title: title);
}

/// <summary>Problem details for the errors every endpoint shares.</summary>
public static class Problems
{
    /// <summary>404 naming the parameter that pointed at nothing.</summary>
    public static ProblemHttpResult NotFound(string field, string title, string detail) => TypedResults.Problem(
        detail: detail,
        statusCode: StatusCodes.Status404NotFound,
        title: title,
        extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [detail] } });

    /// <summary>429 with Retry-After.</summary>
    public static ProblemHttpResult TooMany(HttpContext http, string detail, int retryAfterSeconds)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
    }
}
