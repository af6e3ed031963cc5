namespace Lasthope.Trees;

/// <summary>Why a model file was refused.</summary>
public enum ModelLoadError
{
    /// <summary>The file is not a model of the stated format, or is corrupt (an array of the wrong length, a child index out of range, a tree that is not a tree).</summary>
    Corrupt,

    /// <summary>The file ends before the model does (no <c>end of trees</c>, a cut JSON document, a missing section end).</summary>
    Truncated,

    /// <summary>A valid model that uses a feature this evaluator does not implement (multiclass, linear trees, dart, gblinear, ...).</summary>
    Unsupported,
}

/// <summary>
/// A model file was refused. The message names the file's problem (the tree, the field, the unsupported feature) so that
/// the person who trained the model can act on it; <see cref="Error"/> classifies it for code.
/// </summary>
public sealed class ModelLoadException : Exception
{
    /// <summary>A corrupt model, without a message.</summary>
    public ModelLoadException()
    {
    }

    /// <summary>A corrupt model, with the reason.</summary>
    public ModelLoadException(string message)
        : base(message)
    {
    }

    /// <summary>A corrupt model, with the reason and its cause.</summary>
    public ModelLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A refused model of the given class, with the reason.</summary>
    public ModelLoadException(ModelLoadError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
    }

    /// <summary>The class of the problem.</summary>
    public ModelLoadError Error { get; }

    internal static ModelLoadException Corrupt(string message, Exception? inner = null) => new(ModelLoadError.Corrupt, message, inner);

    internal static ModelLoadException Truncated(string message, Exception? inner = null) => new(ModelLoadError.Truncated, message, inner);

    internal static ModelLoadException Unsupported(string message) => new(ModelLoadError.Unsupported, message);
}
