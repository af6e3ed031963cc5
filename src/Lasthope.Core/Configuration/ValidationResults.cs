using Microsoft.Extensions.Options;

namespace Lasthope.Core.Configuration;

/// <summary>Options validation results as the libraries' constructors use them.</summary>
public static class ValidationResults
{
    /// <summary>Throws <see cref="ArgumentException"/> with the failure messages (each names its setting) when validation failed.</summary>
    public static void ThrowIfFailed(this ValidateOptionsResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Failed)
        {
            throw new ArgumentException(result.FailureMessage);
        }
    }
}
