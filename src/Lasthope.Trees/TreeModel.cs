using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Lasthope.Trees.Evaluation;
using Lasthope.Trees.Loading;

namespace Lasthope.Trees;

/// <summary>
/// A gradient-boosted tree ensemble loaded from a LightGBM text model or an XGBoost JSON model: immutable after
/// loading and safe to share between threads.
/// <para>
/// Scoring takes a dense row-major matrix: document i's features are <c>features[i * FeatureCount ..
/// (i + 1) * FeatureCount]</c>, in the model's feature order (<see cref="FeatureNames"/>); a missing value is NaN.
/// Scores are raw (the sum of the trees, the margin); <see cref="Transform(Span{double})"/> turns them into the
/// objective's prediction (a probability for binary and multiclass models). A multiclass model has
/// <see cref="ClassCount"/> raw scores per document (<see cref="ScoreClasses(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>).
/// The scores equal lib_lightgbm's <c>LGBM_BoosterPredictForMat</c> (C_API_PREDICT_RAW_SCORE) bit for bit, for double
/// inputs and for float inputs (which LightGBM and Lasthope both compare as the doubles they widen to).
/// </para>
/// </summary>
public sealed unsafe class TreeModel
{
    /// <summary>
    /// Documents are scored in blocks of this many: a cancelled call reports a multiple of it (or the whole count) as
    /// the number of leading documents whose scores are complete.
    /// </summary>
    public const int ScoringBlockSize = CompiledForest.BlockSize;

    [ThreadStatic]
    private static long[]? _threadKeys;

    [ThreadStatic]
    private static double[]? _threadAccumulators;

    [ThreadStatic]
    private static long[]? _threadRowKeys;

    [ThreadStatic]
    private static byte[]? _threadRanks;

    [ThreadStatic]
    private static byte[]? _threadReach;

    private readonly CompiledForest _forest;

    /// <summary>The counted choice between <see cref="_forest"/> and its lockstep compilation; null when a kernel was forced or there is no choice.</summary>
    private readonly KernelChoice? _kernelChoice;

    /// <summary>The rank kernel's layout, when the machine and the model allow it: then it scores every batch.</summary>
    private readonly RankLayout? _rank;
    private readonly string[] _featureNames;
    private readonly double[] _baseScores;

    /// <summary>Boosting iterations: trees per class (what a random forest's sum is divided by).</summary>
    private readonly int _iterations;

    private TreeModel(SourceEnsemble source, string fingerprint, TreeKernel? kernel = null, bool rankKernel = true)
    {
        _forest = new CompiledForest(source, kernel);
        if (kernel is null && rankKernel && RankKernels.IsSupported)
        {
            _rank = RankLayout.TryBuild(_forest);
        }

        if (_rank is null && kernel is null && _forest.Kernel.Contains(TreeKernel.Bitvector))
        {
            _kernelChoice = new KernelChoice(_forest, new CompiledForest(source, TreeKernel.Lockstep), BitvectorKernels.Best);
        }
        _featureNames = source.FeatureNames;
        FeatureNames = Array.AsReadOnly(_featureNames);
        Format = source.Format;
        FormatVersion = source.FormatVersion;
        Objective = source.Objective;
        Boosting = source.Boosting;
        OutputTransform = source.Transform;
        SigmoidScale = source.SigmoidScale;
        BaseScore = source.BaseScore;
        ClassCount = source.ClassCount;
        _baseScores = source.BaseScores ?? [.. Enumerable.Repeat(source.BaseScore, ClassCount)];
        BaseScores = Array.AsReadOnly(_baseScores);
        _iterations = source.Trees.Length / ClassCount;
        AverageOutput = source.AverageOutput;
        Fingerprint = fingerprint;
        LeafCount = source.Trees.Sum(t => t.LeafCount);
        HasCovers = source.Trees.All(t => t.InternalCount == 0 || t.InternalCover[0] > 0);
        _thresholds = NumericalThresholds(source);
    }

    private readonly double[][] _thresholds;

    /// <summary>
    /// The distinct thresholds of the numerical splits on <paramref name="feature"/>, ascending. Between two of them
    /// (and beyond the ends) the model's score does not depend on the feature's value, so a search for the value
    /// that changes a prediction need only try one value on each side of each threshold.
    /// </summary>
    public ReadOnlySpan<double> SplitThresholds(int feature)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(feature);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(feature, FeatureCount);
        return _thresholds[feature];
    }

    private static double[][] NumericalThresholds(SourceEnsemble source)
    {
        var sets = new SortedSet<double>?[source.FeatureCount];
        foreach (var tree in source.Trees)
        {
            for (var node = 0; node < tree.InternalCount; node++)
            {
                if (!Decision.IsCategorical(tree.DecisionType[node]) && double.IsFinite(tree.Threshold[node]))
                {
                    (sets[tree.Feature[node]] ??= []).Add(tree.Threshold[node]);
                }
            }
        }

        return [.. sets.Select(s => s is null ? [] : s.ToArray())];
    }

    /// <summary>
    /// Whether the file records how much training data reached each node (LightGBM's <c>internal_count</c> and
    /// <c>leaf_count</c>, XGBoost's <c>sum_hessian</c>). TreeSHAP needs them; a model without them still scores.
    /// </summary>
    public bool HasCovers { get; }

    /// <summary>The format the model was read from.</summary>
    public ModelFormat Format { get; }

    /// <summary>The format's version as the file states it (<c>v4</c>; XGBoost's <c>1.7.4</c>).</summary>
    public string FormatVersion { get; }

    /// <summary>The objective line as the file states it (<c>lambdarank</c>, <c>binary sigmoid:1</c>, <c>rank:ndcg</c>).</summary>
    public string Objective { get; }

    /// <summary>The boosting type (<c>gbdt</c>, <c>dart</c>, <c>rf</c>, <c>goss</c>; <c>gbtree</c> for XGBoost).</summary>
    public string Boosting { get; }

    /// <summary>How a raw score becomes the objective's prediction.</summary>
    public OutputTransform OutputTransform { get; }

    /// <summary>The sigmoid's scale a, for <see cref="OutputTransform.Sigmoid"/> (LightGBM's <c>sigmoid</c> parameter).</summary>
    public double SigmoidScale { get; }

    /// <summary>The constant added to every raw score (XGBoost's base margin; 0 for LightGBM); class 0's for a multiclass model.</summary>
    public double BaseScore { get; }

    /// <summary>The base margin of each class (<see cref="ClassCount"/> values; all <see cref="BaseScore"/> unless the file gives one per class).</summary>
    public IReadOnlyList<double> BaseScores { get; }

    /// <summary>
    /// Raw scores per document: the number of classes of a multiclass model (LightGBM <c>multiclass</c> and
    /// <c>multiclassova</c>, XGBoost <c>multi:softprob</c> and <c>multi:softmax</c>), else 1.
    /// </summary>
    public int ClassCount { get; }

    /// <summary>
    /// Whether <see cref="Transform(Span{double})"/> gives probabilities (<see cref="OutputTransform.Sigmoid"/>: of the
    /// positive class, or of each class one-vs-all; <see cref="OutputTransform.Softmax"/>: of each class, summing to 1)
    /// rather than a value in the label's units.
    /// </summary>
    public bool PredictsProbability => OutputTransform is OutputTransform.Sigmoid or OutputTransform.Softmax;

    /// <summary>
    /// A LightGBM random forest (boosting=rf): the prediction is the mean of the trees (of each class). As in LightGBM,
    /// the raw score is still their sum (the order is the same); <see cref="Transform(double)"/> divides.
    /// </summary>
    public bool AverageOutput { get; }

    /// <summary>Number of input features: the length of one document's row.</summary>
    public int FeatureCount => _forest.FeatureCount;

    /// <summary>Feature names in input order (LightGBM <c>feature_names</c>; XGBoost's where present, else f0, f1, ...).</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The compiled trees (tests check kernels and explanations against references built on them).</summary>
    internal CompiledForest Forest => _forest;

    /// <summary>The kernel batch scoring settled on (see <see cref="KernelChoice"/>): null while rows are counted.</summary>
    internal TreeKernel? ScoringKernel =>
        _kernelChoice is null ? _forest.Kernel.FirstOrDefault()
        : _kernelChoice.Settled is { } settled ? (settled == _forest ? TreeKernel.Bitvector : TreeKernel.Lockstep) : null;

    /// <summary>The counted choice, when there is one (tests read its costs).</summary>
    internal KernelChoice? KernelChoice => _kernelChoice;

    /// <summary>Number of trees.</summary>
    public int TreeCount => _forest.TreeCount;

    /// <summary>Total number of leaves over all trees.</summary>
    public int LeafCount { get; }

    /// <summary>The deepest leaf's depth, in edges from its root.</summary>
    public int MaxDepth => _forest.MaxDepth;

    /// <summary>
    /// <c>sha256:</c> and the hex SHA-256 of the model file's bytes: two models with the same fingerprint are the same
    /// file. Use it as the model's version in responses and logs.
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>Loads a model file, recognising the format by its content (JSON is XGBoost, <c>tree</c> is LightGBM).</summary>
    /// <exception cref="ModelLoadException">The file is corrupt, truncated, or uses something not supported.</exception>
    public static TreeModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.EndsWith(".ubj", StringComparison.OrdinalIgnoreCase))
        {
            throw ModelLoadException.Unsupported("XGBoost's binary UBJSON format is not supported; save the model as .json.");
        }

        return Parse(File.ReadAllBytes(path));
    }

    /// <summary>Parses a model from its file content, recognising the format.</summary>
    /// <exception cref="ModelLoadException">The content is corrupt, truncated, or uses something not supported.</exception>
    public static TreeModel Parse(ReadOnlySpan<byte> content)
    {
        var start = 0;
        while (start < content.Length && (content[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' || content[start] == 0xEF || content[start] == 0xBB || content[start] == 0xBF))
        {
            start++;
        }

        if (start < content.Length && content[start] == (byte)'{')
        {
            return FromXGBoostJson(content);
        }

        if (content[start..].StartsWith("tree"u8))
        {
            return FromLightGbm(Encoding.UTF8.GetString(content[start..]), Hash(content));
        }

        throw ModelLoadException.Corrupt(content.IsEmpty
            ? "The model file is empty."
            : "Not a model: neither a LightGBM text model (starting 'tree') nor an XGBoost JSON model (starting '{').");
    }

    /// <summary>Parses LightGBM model text (what <c>save_model</c> writes, or what the trainer returns).</summary>
    /// <exception cref="ModelLoadException">The text is corrupt, truncated, or uses something not supported.</exception>
    public static TreeModel FromLightGbm(string modelText)
    {
        ArgumentNullException.ThrowIfNull(modelText);
        return FromLightGbm(modelText, Hash(Encoding.UTF8.GetBytes(modelText)));
    }

    /// <summary>Parses an XGBoost JSON model from its UTF-8 bytes.</summary>
    /// <exception cref="ModelLoadException">The JSON is malformed, truncated, or uses something not supported.</exception>
    public static TreeModel FromXGBoostJson(ReadOnlySpan<byte> utf8Json) =>
        new(XGBoostJsonReader.Read(utf8Json), Hash(utf8Json));

    private static TreeModel FromLightGbm(string text, string fingerprint) => new(LightGbmTextReader.Read(text), fingerprint);

    /// <summary>A LightGBM model whose trees use <paramref name="kernel"/> where they can: for tests and benchmarks that compare kernels.</summary>
    internal static TreeModel FromLightGbm(string modelText, TreeKernel kernel) =>
        new(LightGbmTextReader.Read(modelText), Hash(Encoding.UTF8.GetBytes(modelText)), kernel);

    /// <summary>
    /// A LightGBM model without the rank kernel: scored as before it existed (the counted choice between the bitvector
    /// and lockstep kernels), for tests and benchmarks that compare the two.
    /// </summary>
    internal static TreeModel FromLightGbmWithoutRankKernel(string modelText) =>
        new(LightGbmTextReader.Read(modelText), Hash(Encoding.UTF8.GetBytes(modelText)), rankKernel: false);

    /// <summary>Whether batches are scored by the rank kernel (<see cref="RankKernels"/>).</summary>
    internal bool UsesRankKernel => _rank is not null;

    private static string Hash(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>
    /// Scores documents into <paramref name="scores"/> (raw scores), one per document in input order, allocating nothing
    /// (each thread keeps one scratch buffer, grown on first use). For single-output models (<see cref="ClassCount"/>
    /// is 1); a multiclass model scores with <see cref="ScoreClasses(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>.
    /// </summary>
    /// <param name="features">
    /// Row-major features: at least <c>scores.Length * FeatureCount</c> values; document i starts at
    /// <c>i * FeatureCount</c>. NaN is a missing value. Only the first <c>scores.Length</c> documents are read, so a
    /// prefix of a larger matrix is scored by passing a shorter <paramref name="scores"/>.
    /// </param>
    /// <param name="scores">Receives the raw scores; its length is the number of documents to score.</param>
    /// <param name="cancellationToken">
    /// Checked before each block of <see cref="ScoringBlockSize"/> documents and between blocks of 64 trees. When it is
    /// cancelled the method returns early instead of throwing.
    /// </param>
    /// <returns>
    /// The number of leading documents whose scores are complete: <c>scores.Length</c>, or on cancellation a multiple
    /// of <see cref="ScoringBlockSize"/>. Scores past that count are unspecified.
    /// </returns>
    /// <exception cref="InvalidOperationException">The model is multiclass.</exception>
    public int Score(ReadOnlySpan<double> features, Span<double> scores, CancellationToken cancellationToken = default)
    {
        RequireSingleOutput();
        return ScoreCore(features, scores, scores.Length, cancellationToken);
    }

    /// <summary>
    /// Scores documents given as floats: the same results as the double overload on the same values widened to double
    /// (widening is exact, and LightGBM compares a float input as that double).
    /// </summary>
    /// <inheritdoc cref="Score(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>
    public int Score(ReadOnlySpan<float> features, Span<double> scores, CancellationToken cancellationToken = default)
    {
        RequireSingleOutput();
        return ScoreCore(features, scores, scores.Length, cancellationToken);
    }

    /// <summary>
    /// Scores documents with every kernel the model may use, so that the JIT has compiled them before traffic, without
    /// letting these rows choose the kernel: warm-up rows (logged rows of shown items, or missing values) do not take
    /// the paths that served candidates take, and the choice must be made on the latter (<see cref="KernelChoice"/>).
    /// The scores are the same as <see cref="Score(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>'s.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is multiclass.</exception>
    public int WarmUp(ReadOnlySpan<double> features, Span<double> scores)
    {
        RequireSingleOutput();
        if (_kernelChoice is not null)
        {
            ScoreCore(features, scores, scores.Length, CancellationToken.None, BitvectorKernels.Best);
        }

        return ScoreCore(features, scores, scores.Length, CancellationToken.None, sample: false);
    }

    /// <summary>The raw score of one document (<paramref name="row"/> has <see cref="FeatureCount"/> values).</summary>
    /// <exception cref="InvalidOperationException">The model is multiclass.</exception>
    public double Score(ReadOnlySpan<double> row)
    {
        Span<double> score = stackalloc double[1];
        Score(row, score);
        return score[0];
    }

    /// <summary>
    /// Scores documents of any model into <paramref name="rawScores"/>: <see cref="ClassCount"/> raw scores per
    /// document, document-major (document i's class k at <c>i * ClassCount + k</c>), which is lib_lightgbm's layout for
    /// <c>C_API_PREDICT_RAW_SCORE</c>. Class k's raw score is the sum of the trees of class k (for LightGBM, trees
    /// k, k + ClassCount, ...) plus its base margin. For a single-output model this is
    /// <see cref="Score(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>.
    /// </summary>
    /// <param name="features">Row-major features, as for <see cref="Score(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>.</param>
    /// <param name="rawScores">Its length, a multiple of <see cref="ClassCount"/>, says how many documents to score.</param>
    /// <param name="cancellationToken">Checked as for <see cref="Score(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>.</param>
    /// <returns>The number of leading documents whose scores (all classes) are complete.</returns>
    public int ScoreClasses(ReadOnlySpan<double> features, Span<double> rawScores, CancellationToken cancellationToken = default) =>
        ScoreCore(features, rawScores, Documents(rawScores.Length), cancellationToken);

    /// <inheritdoc cref="ScoreClasses(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>
    public int ScoreClasses(ReadOnlySpan<float> features, Span<double> rawScores, CancellationToken cancellationToken = default) =>
        ScoreCore(features, rawScores, Documents(rawScores.Length), cancellationToken);

    // sample: whether these rows may inform the kernel choice (false for warm-up rows).
    internal int ScoreCore<T>(ReadOnlySpan<T> features, Span<double> scores, int count, CancellationToken cancellationToken, BitvectorWidth? width = null, bool sample = true)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var featureCount = FeatureCount;
        if ((long)count * featureCount > features.Length)
        {
            ThrowTooFewFeatures(features.Length, count, featureCount);
        }

        if (count == 0)
        {
            return 0;
        }

        if (_rank is not null && width is null && count >= RankKernels.MinDocuments)
        {
            return ScoreRanked(features, scores, count, cancellationToken);
        }

        var choice = width is null ? _kernelChoice : null;
        var forest = choice?.Next ?? _forest;
        var counting = sample && choice is not null && choice.Settled is null;
        var classes = ClassCount;
        var keys = Scratch(ref _threadKeys, forest.SlotCount * CompiledForest.BlockSize);
        var accumulators = Scratch(ref _threadAccumulators, classes * CompiledForest.BlockSize);
        var trees = forest.TreeCount;
        var kernelWidth = width ?? BitvectorKernels.Best;
        var baseScores = _baseScores;
        fixed (T* rows = features)
        fixed (long* x = keys)
        fixed (double* a = accumulators)
        {
            for (var start = 0; start < count; start += CompiledForest.BlockSize)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return start;
                }

                var n = Math.Min(CompiledForest.BlockSize, count - start);
                ForestKernels.PreprocessKeys(forest, rows + ((nint)start * featureCount), featureCount, n, x, CompiledForest.KeyGroup);
                if (counting)
                {
                    choice!.Count(x, n);
                }
                for (var k = 0; k < classes; k++)
                {
                    new Span<double>(a + (k * CompiledForest.BlockSize), CompiledForest.BlockSize).Fill(baseScores[k]);
                }

                for (var t = 0; t < trees; t += CompiledForest.TreeBlockSize)
                {
                    if (t > 0 && cancellationToken.IsCancellationRequested)
                    {
                        return start;
                    }

                    ForestKernels.AddTrees(forest, x, n, a, t, Math.Min(trees, t + CompiledForest.TreeBlockSize), kernelWidth);
                }

                if (classes == 1)
                {
                    new ReadOnlySpan<double>(a, n).CopyTo(scores.Slice(start, n));
                }
                else
                {
                    var target = scores.Slice(start * classes, n * classes);
                    for (var d = 0; d < n; d++)
                    {
                        for (var k = 0; k < classes; k++)
                        {
                            target[(d * classes) + k] = a[(k * CompiledForest.BlockSize) + d];
                        }
                    }
                }
            }
        }

        return count;
    }

    /// <summary>The rank kernel's scoring loop: keys, then ranks, then the trees, a block of 64 documents at a time.</summary>
    private int ScoreRanked<T>(ReadOnlySpan<T> features, Span<double> scores, int count, CancellationToken cancellationToken)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var rank = _rank!;
        var forest = _forest;
        var featureCount = FeatureCount;
        var classes = ClassCount;
        var keys = Scratch(ref _threadKeys, forest.SlotCount * CompiledForest.BlockSize);
        var ranks = Scratch(ref _threadRanks, rank.RankBytes);
        var reach = Scratch(ref _threadReach, (rank.MaxInternal + 1) * RankLayout.Lanes);
        var accumulators = Scratch(ref _threadAccumulators, classes * CompiledForest.BlockSize);
        var trees = forest.TreeCount;
        var baseScores = _baseScores;
        fixed (T* rows = features)
        fixed (long* x = keys)
        fixed (byte* r = ranks)
        fixed (byte* reachLines = reach)
        fixed (double* a = accumulators)
        {
            for (var start = 0; start < count; start += CompiledForest.BlockSize)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return start;
                }

                var n = Math.Min(CompiledForest.BlockSize, count - start);
                ForestKernels.PreprocessKeys(forest, rows + ((nint)start * featureCount), featureCount, n, x, CompiledForest.KeyGroup);
                RankKernels.Ranks(rank, x, n, r);
                for (var k = 0; k < classes; k++)
                {
                    new Span<double>(a + (k * CompiledForest.BlockSize), CompiledForest.BlockSize).Fill(baseScores[k]);
                }

                for (var t = 0; t < trees; t += CompiledForest.TreeBlockSize)
                {
                    if (t > 0 && cancellationToken.IsCancellationRequested)
                    {
                        return start;
                    }

                    RankKernels.AddTrees(rank, t, Math.Min(trees, t + CompiledForest.TreeBlockSize), r, a, reachLines);
                }

                CopyOut(a, scores, start, n, classes);
            }
        }

        return count;
    }

    private static void CopyOut(double* a, Span<double> scores, int start, int n, int classes)
    {
        if (classes == 1)
        {
            new ReadOnlySpan<double>(a, n).CopyTo(scores.Slice(start, n));
            return;
        }

        var target = scores.Slice(start * classes, n * classes);
        for (var d = 0; d < n; d++)
        {
            for (var k = 0; k < classes; k++)
            {
                target[(d * classes) + k] = a[(k * CompiledForest.BlockSize) + d];
            }
        }
    }

    /// <summary>
    /// Applies <see cref="OutputTransform"/> to the raw score of a single-output model (for a random forest, after
    /// dividing by the number of trees, as LightGBM's normal prediction does).
    /// </summary>
    /// <exception cref="InvalidOperationException">The transform is <see cref="OutputTransform.Softmax"/>, which needs every class's score: use <see cref="Transform(Span{double})"/>.</exception>
    public double Transform(double raw)
    {
        if (OutputTransform == OutputTransform.Softmax)
        {
            throw new InvalidOperationException("Softmax needs the raw scores of every class of a document; use Transform(Span<double>).");
        }

        return Apply(AverageOutput && _iterations > 0 ? raw / _iterations : raw);
    }

    /// <summary>
    /// Applies <see cref="OutputTransform"/> in place to raw scores as <see cref="ScoreClasses(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>
    /// writes them (<see cref="ClassCount"/> per document; one for single-output models). Softmax is computed per
    /// document as LightGBM's Common::Softmax computes it (the maximum subtracted, then exp, then divided by the sum);
    /// the other transforms apply to each value.
    /// </summary>
    public void Transform(Span<double> scores)
    {
        if (AverageOutput && _iterations > 0)
        {
            foreach (ref var s in scores)
            {
                s /= _iterations;
            }
        }

        switch (OutputTransform)
        {
            case OutputTransform.Identity:
                return;
            case OutputTransform.Softmax:
                if (scores.Length % ClassCount != 0)
                {
                    throw new ArgumentException($"Softmax works on whole documents of {ClassCount} scores; got {scores.Length} values.", nameof(scores));
                }

                for (var i = 0; i < scores.Length; i += ClassCount)
                {
                    Softmax(scores.Slice(i, ClassCount));
                }

                return;
            default:
                foreach (ref var s in scores)
                {
                    s = Apply(s);
                }

                return;
        }
    }

    /// <summary>
    /// The class a document is predicted to be, from its raw scores: for a multiclass model the class with the largest
    /// raw score (the first on ties, as XGBoost's <c>multi:softmax</c> and numpy's argmax choose; the transforms are
    /// monotone, so it is also the most probable class); for a binary model 1 when the probability is above 0.5 (raw
    /// score above 0), else 0.
    /// </summary>
    /// <param name="rawScores">One document's <see cref="ClassCount"/> raw scores.</param>
    /// <exception cref="InvalidOperationException">The model is neither multiclass nor binary.</exception>
    public int PredictClass(ReadOnlySpan<double> rawScores)
    {
        if (rawScores.Length < ClassCount)
        {
            throw new ArgumentException($"A document has {ClassCount} raw scores, got {rawScores.Length}.", nameof(rawScores));
        }

        if (ClassCount > 1)
        {
            var best = 0;
            for (var k = 1; k < ClassCount; k++)
            {
                if (rawScores[k] > rawScores[best])
                {
                    best = k;
                }
            }

            return best;
        }

        if (OutputTransform != OutputTransform.Sigmoid)
        {
            throw new InvalidOperationException($"A model with output transform {OutputTransform} predicts a value, not a class.");
        }

        return SigmoidScale * rawScores[0] > 0 ? 1 : 0;
    }

    /// <summary>
    /// The leaf each tree sends the document to, numbered as the source format numbers them (LightGBM's leaf index, as
    /// <c>C_API_PREDICT_LEAF_INDEX</c> reports it; XGBoost's node id, as <c>pred_leaf</c> reports it).
    /// </summary>
    /// <param name="row">One document, <see cref="FeatureCount"/> values.</param>
    /// <param name="leaves">Receives <see cref="TreeCount"/> leaf indices.</param>
    public void GetLeafIndices(ReadOnlySpan<double> row, Span<int> leaves)
    {
        RequireRow(row);
        ArgumentOutOfRangeException.ThrowIfLessThan(leaves.Length, TreeCount, nameof(leaves));
        var keys = PreprocessOne(row);
        for (var t = 0; t < TreeCount; t++)
        {
            leaves[t] = _forest.LeafIds[Walk(t, keys)];
        }
    }

    /// <summary>
    /// Exact path-dependent TreeSHAP values of one document (Lundberg et al. 2018), in raw-score units, for every class:
    /// class k's block is <c>contributions[k * (FeatureCount + 1) ..]</c>, the contribution of each feature and then the
    /// bias (the class's expected raw score over the training data) at index <see cref="FeatureCount"/> of the block.
    /// A block adds up to the class's raw score. The layout and the values are those of LightGBM's
    /// <c>C_API_PREDICT_CONTRIB</c>. Allocates nothing (per-thread scratch).
    /// </summary>
    /// <param name="row">One document, <see cref="FeatureCount"/> values.</param>
    /// <param name="contributions">Receives <see cref="ClassCount"/> * (<see cref="FeatureCount"/> + 1) values; it is overwritten.</param>
    /// <exception cref="InvalidOperationException">The model has no covers (<see cref="HasCovers"/> is false).</exception>
    public void ExplainShap(ReadOnlySpan<double> row, Span<double> contributions)
    {
        RequireCovers();
        RequireRow(row);
        var width = FeatureCount + 1;
        RequireContributions(contributions, ClassCount * width);
        var phi = contributions[..(ClassCount * width)];
        phi.Clear();
        var keys = PreprocessOne(row);
        TreeShap.Explain(_forest, keys, phi, -1);
        for (var k = 0; k < ClassCount; k++)
        {
            phi[(k * width) + FeatureCount] += _baseScores[k];
        }
    }

    /// <summary>TreeSHAP values of one class of a document: the block of that class in <see cref="ExplainShap(ReadOnlySpan{double}, Span{double})"/>.</summary>
    /// <param name="row">One document, <see cref="FeatureCount"/> values.</param>
    /// <param name="classIndex">The class, 0 to <see cref="ClassCount"/> - 1.</param>
    /// <param name="contributions">Receives <see cref="FeatureCount"/> + 1 values; it is overwritten.</param>
    /// <exception cref="InvalidOperationException">The model has no covers (<see cref="HasCovers"/> is false).</exception>
    public void ExplainShap(ReadOnlySpan<double> row, int classIndex, Span<double> contributions)
    {
        RequireCovers();
        RequireRow(row);
        RequireClass(classIndex);
        RequireContributions(contributions, FeatureCount + 1);
        var phi = contributions[..(FeatureCount + 1)];
        phi.Clear();
        var keys = PreprocessOne(row);
        TreeShap.Explain(_forest, keys, phi, classIndex);
        phi[FeatureCount] += _baseScores[classIndex];
    }

    /// <summary>
    /// A cheap attribution for ranking responses (Saabas 2014, "interpreting random forests"): along the document's path
    /// in every tree, each split's feature is credited with the change in the expected output from the node to the
    /// child taken. Same layout (a block per class) and the same bias as
    /// <see cref="ExplainShap(ReadOnlySpan{double}, Span{double})"/>, and the values also add up to the raw score, but it
    /// costs one walk per tree, so the top of a ranking can be explained within a request. Unlike SHAP it over-credits
    /// features near the leaves; use it to say which features moved an item, and SHAP when the exact share matters.
    /// </summary>
    /// <param name="row">One document, <see cref="FeatureCount"/> values.</param>
    /// <param name="contributions">Receives <see cref="ClassCount"/> * (<see cref="FeatureCount"/> + 1) values; it is overwritten.</param>
    public void ExplainPath(ReadOnlySpan<double> row, Span<double> contributions)
    {
        RequireRow(row);
        var width = FeatureCount + 1;
        RequireContributions(contributions, ClassCount * width);
        var phi = contributions[..(ClassCount * width)];
        phi.Clear();
        var keys = PreprocessOne(row);
        for (var k = 0; k < ClassCount; k++)
        {
            PathAttribution(keys, k, phi.Slice(k * width, width), ClassCount == 1);
        }
    }

    /// <summary>The path attribution of one class: the block of that class in <see cref="ExplainPath(ReadOnlySpan{double}, Span{double})"/>.</summary>
    /// <param name="row">One document, <see cref="FeatureCount"/> values.</param>
    /// <param name="classIndex">The class, 0 to <see cref="ClassCount"/> - 1.</param>
    /// <param name="contributions">Receives <see cref="FeatureCount"/> + 1 values; it is overwritten.</param>
    public void ExplainPath(ReadOnlySpan<double> row, int classIndex, Span<double> contributions)
    {
        RequireRow(row);
        RequireClass(classIndex);
        RequireContributions(contributions, FeatureCount + 1);
        var phi = contributions[..(FeatureCount + 1)];
        phi.Clear();
        PathAttribution(PreprocessOne(row), classIndex, phi, ClassCount == 1);
    }

    private void PathAttribution(long* keys, int classIndex, Span<double> phi, bool allTrees)
    {
        var forest = _forest;
        var bias = _baseScores[classIndex];
        for (var t = 0; t < forest.TreeCount; t++)
        {
            if (!allTrees && forest.TreeClass[t] != classIndex)
            {
                continue;
            }

            var node = forest.Root[t];
            bias += forest.Value[node];
            var leafStart = forest.LeafStart[t];
            while (node < leafStart)
            {
                var next = ForestKernels.Next(forest, node, keys);
                phi[forest.NodeFeature(node)] += forest.Value[next] - forest.Value[node];
                node = next;
            }
        }

        phi[FeatureCount] = bias;
    }

    /// <summary>Structure and feature importance: what <c>lasthope model inspect</c> prints.</summary>
    public TreeModelSummary Summarize()
    {
        var forest = _forest;
        var splits = new int[FeatureCount];
        var gains = new double[FeatureCount];
        long leafDepthSum = 0;
        for (var t = 0; t < forest.TreeCount; t++)
        {
            var stack = new Stack<(int Node, int Depth)>();
            stack.Push((forest.Root[t], 0));
            while (stack.Count > 0)
            {
                var (node, depth) = stack.Pop();
                if (forest.IsLeaf(t, node))
                {
                    leafDepthSum += depth;
                    continue;
                }

                var f = forest.NodeFeature(node);
                splits[f]++;
                gains[f] += forest.Gain[node];
                stack.Push((forest.Left[node], depth + 1));
                stack.Push((forest.Right[node], depth + 1));
            }
        }

        var importance = Enumerable.Range(0, FeatureCount)
            .Where(f => splits[f] > 0)
            .Select(f => new FeatureImportance(f, _featureNames[f], splits[f], gains[f]))
            .OrderByDescending(i => i.Gain)
            .ThenBy(i => i.Feature)
            .ToArray();
        return new TreeModelSummary(
            Format, FormatVersion, Objective, Boosting, OutputTransform, TreeCount, LeafCount, MaxDepth,
            LeafCount == 0 ? 0 : (double)leafDepthSum / LeafCount, FeatureCount, importance.Length, importance, Fingerprint)
        {
            Classes = ClassCount,
        };
    }

    private int Walk(int tree, long* keys)
    {
        var node = _forest.Root[tree];
        var leafStart = _forest.LeafStart[tree];
        while (node < leafStart)
        {
            node = ForestKernels.Next(_forest, node, keys);
        }

        return node;
    }

    /// <summary>One document's slot keys, in this thread's scratch (valid until the thread's next call).</summary>
    private long* PreprocessOne(ReadOnlySpan<double> row)
    {
        var keys = Scratch(ref _threadRowKeys, _forest.SlotCount);

        // The scratch is referenced by a thread-static field, but the GC may still move it: pin it for the caller's
        // use by allocating it on the pinned heap (see Scratch).
        var p = (long*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(keys));
        fixed (double* r = row)
        {
            ForestKernels.PreprocessKeys(_forest, r, FeatureCount, 1, p, 1);
        }

        return p;
    }

    /// <summary>A per-thread buffer of at least <paramref name="length"/> values, on the pinned heap so pointers into it stay valid.</summary>
    private static T[] Scratch<T>(ref T[]? slot, int length)
        where T : unmanaged
    {
        var buffer = slot;
        if (buffer is null || buffer.Length < length)
        {
            buffer = slot = GC.AllocateArray<T>(length, pinned: true);
        }

        return buffer;
    }

    private int Documents(int rawScoreCount)
    {
        if (rawScoreCount % ClassCount != 0)
        {
            throw new ArgumentException($"The raw scores hold {ClassCount} values per document; {rawScoreCount} is not a multiple of {ClassCount}.");
        }

        return rawScoreCount / ClassCount;
    }

    private double Apply(double r) => OutputTransform switch
    {
        OutputTransform.Sigmoid => 1.0 / (1.0 + Math.Exp(-SigmoidScale * r)),
        OutputTransform.Exponential => Math.Exp(r),
        OutputTransform.SignedSquare => Math.Sign(r) * r * r,
        _ => r,
    };

    /// <summary>
    /// LightGBM's Common::Softmax (include/LightGBM/utils/common.h): subtract the largest score, exponentiate, divide
    /// by the sum accumulated in class order. Done the same way in the same precision, so the probabilities are
    /// lib_lightgbm's.
    /// </summary>
    private static void Softmax(Span<double> scores)
    {
        var max = scores[0];
        for (var i = 1; i < scores.Length; i++)
        {
            max = Math.Max(scores[i], max);
        }

        var sum = 0.0;
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = Math.Exp(scores[i] - max);
            sum += scores[i];
        }

        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] /= sum;
        }
    }

    private void RequireSingleOutput()
    {
        if (ClassCount != 1)
        {
            ThrowMulticlass(ClassCount);
        }
    }

    private void RequireCovers()
    {
        if (!HasCovers)
        {
            throw new InvalidOperationException("TreeSHAP needs the training data count of every node (internal_count, leaf_count), which this model file does not have.");
        }
    }

    private void RequireClass(int classIndex) =>
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)classIndex, (uint)ClassCount, nameof(classIndex));

    private void RequireRow(ReadOnlySpan<double> row)
    {
        if (row.Length < FeatureCount)
        {
            ThrowTooFewFeatures(row.Length, 1, FeatureCount);
        }
    }

    private void RequireContributions(Span<double> contributions, int needed)
    {
        if (contributions.Length < needed)
        {
            throw new ArgumentException($"Contributions need {needed} values ({(ClassCount > 1 ? $"{ClassCount} classes of " : "")}one per feature and the bias), got {contributions.Length}.", nameof(contributions));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMulticlass(int classes) =>
        throw new InvalidOperationException($"The model has {classes} classes: score it with ScoreClasses, which writes {classes} raw scores per document.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooFewFeatures(int length, int documents, int featureCount) =>
        throw new ArgumentException($"{documents} documents of {featureCount} features need {(long)documents * featureCount} values, got {length}.");
}

/// <summary>A feature's share of the model: how many splits use it and the total gain of those splits.</summary>
/// <param name="Feature">Index in the model's input.</param>
/// <param name="Name">The model's name for it.</param>
/// <param name="Splits">Number of splits on the feature (LightGBM's importance_type=split).</param>
/// <param name="Gain">Sum of the splits' gains (importance_type=gain).</param>
public sealed record FeatureImportance(int Feature, string Name, int Splits, double Gain);

/// <summary>What a model is made of, for people (<c>lasthope model inspect</c>) and for logs.</summary>
public sealed record TreeModelSummary(
    ModelFormat Format,
    string FormatVersion,
    string Objective,
    string Boosting,
    OutputTransform OutputTransform,
    int Trees,
    int Leaves,
    int MaxDepth,
    double MeanLeafDepth,
    int Features,
    int FeaturesUsed,
    IReadOnlyList<FeatureImportance> Importance,
    string Fingerprint)
{
    /// <summary>Raw scores per document (<see cref="TreeModel.ClassCount"/>).</summary>
    public int Classes { get; init; } = 1;
}
