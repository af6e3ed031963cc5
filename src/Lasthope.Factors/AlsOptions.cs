namespace Lasthope.Factors;

/// <summary>How each user (item) least-squares problem is solved in an ALS half-step.</summary>
public enum AlsSolver
{
    /// <summary>
    /// A few conjugate-gradient steps warm-started from the previous factors (Takács, Pilászy and Tikk 2011). Cost per
    /// row O(steps * (f^2 + n_u f)); the default, and what makes large data fast.
    /// </summary>
    ConjugateGradient,

    /// <summary>The exact solve by Cholesky factorisation (Hu, Koren and Volinsky 2008). Cost per row O(n_u f^2 + f^3).</summary>
    Cholesky,
}

/// <summary>How an interaction weight r becomes a confidence c (Hu, Koren and Volinsky 2008, section 4).</summary>
public enum ConfidenceScaling
{
    /// <summary>c = 1 + alpha * |r| (equation 1 of the paper).</summary>
    Linear,

    /// <summary>c = 1 + alpha * log(1 + |r| / epsilon), which damps heavy users of an item.</summary>
    Logarithmic,
}

/// <summary>
/// Hyperparameters of implicit-feedback ALS. Defaults follow benfred/implicit where they exist (regularization 0.01,
/// 15 iterations, 3 CG steps) with 64 factors; alpha defaults to 10 rather than implicit's 1.0 because here the
/// confidence is 1 + alpha r as in the paper (implicit's kernel uses alpha r, so its c - 1 is alpha r - 1).
/// </summary>
/// <remarks>
/// Defaults are a starting point, not a tuning: lambda is compared with Y^T Y, a sum over every item (and X^T X over
/// every user), so the right value grows with the data. On msweb (32,711 users, 285 items) <c>lasthope evaluate-recs
/// --search</c> picks 16 factors, lambda 1000, alpha 100, 15 iterations, and the defaults lose to popularity there.
/// </remarks>
public sealed record AlsOptions
{
    /// <summary>Dimension f of the shared vector space. Default 64.</summary>
    public int Factors { get; init; } = 64;

    /// <summary>L2 penalty lambda on every user and item vector. Default 0.01.</summary>
    public float Regularization { get; init; } = 0.01f;

    /// <summary>Confidence slope alpha (see <see cref="Confidence"/>). Default 10.</summary>
    public float Alpha { get; init; } = 10f;

    /// <summary>How weights become confidences. Default linear.</summary>
    public ConfidenceScaling Confidence { get; init; } = ConfidenceScaling.Linear;

    /// <summary>The epsilon of <see cref="ConfidenceScaling.Logarithmic"/>. Default 1.</summary>
    public float Epsilon { get; init; } = 1f;

    /// <summary>Full sweeps (a user half-step then an item half-step). Default 15.</summary>
    public int Iterations { get; init; } = 15;

    /// <summary>Row solver. Default conjugate gradient.</summary>
    public AlsSolver Solver { get; init; } = AlsSolver.ConjugateGradient;

    /// <summary>Conjugate-gradient steps per row and half-step (implicit's cg_steps). Default 3.</summary>
    public int CgSteps { get; init; } = 3;

    /// <summary>Worker threads. Default <see cref="Environment.ProcessorCount"/>. The factors do not depend on it.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Seed of the initial factors; the same data, options and seed give the same model bit for bit.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// Compute the training loss after every iteration. Default true. With the conjugate-gradient solver it is fused
    /// into the item half-step: the scores it needs come from the dot products the CG passes already form, so it
    /// costs one multiply-add per non-zero and CG step and one A0 product per item (the Cholesky solver makes a
    /// separate pass over each item's non-zeros).
    /// </summary>
    public bool ComputeLoss { get; init; } = true;

    /// <summary>Initial factors are uniform in [0, InitScale). Default 0.01, as implicit.</summary>
    public float InitScale { get; init; } = 0.01f;

    /// <summary>
    /// Train the conjugate-gradient solver in the eigenbasis of each half-step's Gram matrix, where A0 is diagonal
    /// (see AlsTrainer.Rotation). The scores are the same up to rounding; off only to compare with the unrotated
    /// kernels.
    /// </summary>
    internal bool RotateToEigenbasis { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Factors, 1, nameof(Factors));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Factors, 4096, nameof(Factors));
        if (!float.IsFinite(Regularization) || Regularization < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Regularization), Regularization, "Regularization must be finite and non-negative.");
        }

        if (!float.IsFinite(Alpha) || Alpha <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha must be finite and positive.");
        }

        if (!float.IsFinite(Epsilon) || Epsilon <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be finite and positive.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(Iterations, nameof(Iterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(CgSteps, 1, nameof(CgSteps));
        ArgumentOutOfRangeException.ThrowIfLessThan(Threads, 1, nameof(Threads));
        if (!float.IsFinite(InitScale) || InitScale <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(InitScale), InitScale, "InitScale must be finite and positive.");
        }

        if (!Enum.IsDefined(Solver))
        {
            throw new ArgumentOutOfRangeException(nameof(Solver), Solver, "Unknown solver.");
        }

        if (!Enum.IsDefined(Confidence))
        {
            throw new ArgumentOutOfRangeException(nameof(Confidence), Confidence, "Unknown confidence scaling.");
        }
    }

    /// <summary>c - 1 for weight r, signed like r: the kernels read |v| as c - 1 and the sign as the preference.</summary>
    internal float ConfidenceMinusOne(float r)
    {
        var magnitude = Confidence == ConfidenceScaling.Linear
            ? Alpha * MathF.Abs(r)
            : Alpha * MathF.Log(1 + (MathF.Abs(r) / Epsilon));

        // A tiny weight must still say which side it is on: keep the sign even when the magnitude underflows to 0.
        magnitude = MathF.Max(magnitude, float.Epsilon);
        return r > 0 ? magnitude : -magnitude;
    }
}

/// <summary>Progress of one ALS iteration.</summary>
/// <param name="Iteration">1-based iteration just finished.</param>
/// <param name="Iterations">Total iterations.</param>
/// <param name="Loss">
/// The weighted squared loss of equation 3 of Hu, Koren and Volinsky (2008), sum over all cells of
/// c_ui (p_ui - x_u . y_i)^2 plus lambda (sum |x_u|^2 + sum |y_i|^2), divided, as in implicit, by
/// (sum of confidences over non-zeros + users * items - non-zeros); NaN when not computed.
/// </param>
/// <param name="Elapsed">Wall time of this iteration (both half-steps and the loss).</param>
public readonly record struct AlsIterationReport(int Iteration, int Iterations, double Loss, TimeSpan Elapsed);
