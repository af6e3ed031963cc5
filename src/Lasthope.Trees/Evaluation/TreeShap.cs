using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// Exact path-dependent TreeSHAP (Lundberg, Erion and Lee, "Consistent Individualized Feature Attribution for Tree
/// Ensembles", 2018; LightGBM's Tree::TreeSHAP in src/io/tree.cpp computes the same values), leaf by leaf, with each
/// leaf's Shapley weights as an integral evaluated by Gauss-Legendre quadrature in vectors.
/// <para>
/// The maths. Take one leaf with value v and the unique features on its path, j = 1..D, each with a zero fraction
/// z_j (the product over the path's splits on j of cover(child) / cover(node): the share of training data that
/// follows the path when j is unknown) and a one fraction o_j (1 when the document itself satisfies every split on j
/// along the path, else 0). TreeSHAP gives feature i of the path the share
/// </para>
/// <code>
///   phi_i += v (o_i - z_i) sum_{S subset of the others} |S|! (D - 1 - |S|)! / D! * prod_{j in S} o_j * prod_{j not in S} z_j
/// </code>
/// <para>
/// and the Shapley weight is a Beta integral, |S|! (D - 1 - |S|)! / D! = integral_0^1 u^|S| (1 - u)^(D - 1 - |S|) du,
/// so the whole sum is one integral of a product (the observation behind Linear TreeShap: Yu, Bai, Bifet and Read,
/// "Linear TreeShap", NeurIPS 2022, who evaluate it by polynomial interpolation):
/// </para>
/// <code>
///   phi_i += v (o_i - z_i) integral_0^1 prod_{j != i} (z_j + u (o_j - z_j)) du
/// </code>
/// <para>
/// The integrand is a polynomial of degree D - 1, which Gauss-Legendre quadrature with ceil(D / 2) points integrates
/// exactly (up to rounding). A leaf's factors f_j(u) = z_j + u (o_j - z_j) are evaluated at the 4, 8, 12, ... points of
/// the rule in Vector256 lanes; a prefix and a suffix product give each prod_{j != i} with no division; the weighted
/// lanes are added into a per-feature vector, and the lanes are summed once per call (the quadrature's sum is linear).
/// That is a few vector operations per leaf and feature where the recursive algorithm does an O(D) scalar unwind with
/// divisions, and nothing is recursive: the leaves' element lists (feature, z, and the splits that decide o) are
/// precomputed per model, the document's direction at each node is computed once per tree, and o is computed without a
/// branch. The results equal the recursive algorithm's to about 1e-15 relative (tested against it and against
/// lib_lightgbm's C_API_PREDICT_CONTRIB).
/// </para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class TreeShap
{
    private const int Lanes = 4;

    [ThreadStatic]
    private static ShapScratch? _scratch;

    /// <summary>
    /// Adds the contributions of the trees of class <paramref name="classIndex"/> (every class when it is -1, class k's
    /// into block k of <paramref name="phi"/>) to <paramref name="phi"/>: feature count + 1 entries per block, the last
    /// the bias. <paramref name="keys"/> holds the document's slot keys, one column.
    /// </summary>
    public static void Explain(CompiledForest forest, long* keys, Span<double> phi, int classIndex)
    {
        var layout = forest.Shap;
        var features = forest.FeatureCount;
        var width = features + 1;
        var blocks = classIndex >= 0 ? 1 : forest.ClassCount;
        var scratch = Scratch(layout, blocks * features);
        var goesLeft = scratch.Directions;
        var prefix = scratch.Prefix;
        var factors = scratch.Factors;
        var ones = scratch.Ones;
        var suffix = stackalloc Vector256<double>[layout.RuleCount];

        // Per feature, the sum over leaves of scale * w_q * prod_{j != i} f_j(u_q) is kept lane by lane (point by
        // point) and reduced once at the end: the quadrature's sum is linear, so the lanes of any rule fold together.
        var accumulators = scratch.Accumulators;
        new Span<Vector256<double>>(accumulators, blocks * features).Clear();
        var nodeSlot = forest.NodeSlotPointer;
        var thresholds = forest.ThresholdKeyPointer;
        var categorical = forest.IsCategoricalPointer;
        var elementStart = layout.ElementStart;
        var feature = layout.Feature;
        var zero = layout.Zero;
        var conditionStart = layout.ConditionStart;
        var condition = layout.Condition;
        var leafValue = layout.LeafValue;
        fixed (double* phiBase = phi)
        {
            for (var t = 0; t < forest.TreeCount; t++)
            {
                var k = forest.TreeClass[t];
                if (classIndex >= 0 && k != classIndex)
                {
                    continue;
                }

                var block = classIndex >= 0 ? 0 : k;
                phiBase[(block * width) + features] += forest.TreeBias[t];
                var acc = accumulators + (block * features);

                // The document's direction at every internal node, once.
                var root = forest.Root[t];
                var internals = forest.LeafStart[t] - root;
                for (var i = 0; i < internals; i++)
                {
                    var node = root + i;
                    var key = keys[nodeSlot[node]];
                    goesLeft[i] = categorical[node] ? (byte)(ForestKernels.InCategorySet(forest, node, ForestKernels.ValueOf(key)) ? 1 : 0) : (byte)(key <= thresholds[node] ? 1 : 0);
                }

                for (var leaf = layout.LeafStart[t]; leaf < layout.LeafStart[t + 1]; leaf++)
                {
                    var first = elementStart[leaf];
                    var depth = elementStart[leaf + 1] - first;

                    // The rule of 4 * vectors points integrates degree 8 * vectors - 1 exactly: the product has degree depth - 1.
                    var vectors = (depth + 7) >> 3;
                    var value = leafValue[leaf];
                    if (vectors == 1)
                    {
                        // Paths of up to 8 features (nearly all): one vector of 4 points, the running products in
                        // registers rather than in memory, where each step would wait on the last one's store.
                        var u = Vector256.Load(layout.RulePoints(1));
                        var running = Vector256.Load(layout.RuleWeights(1));
                        for (var j = 0; j < depth; j++)
                        {
                            var one = One(first + j, conditionStart, condition, goesLeft);
                            ones[j] = one;
                            var f = Vector256.Create(zero[first + j]) + (Vector256.Create(one - zero[first + j]) * u);
                            factors[j] = f;
                            prefix[j] = running;
                            running *= f;
                        }

                        running = Vector256<double>.One;
                        for (var j = depth - 1; j >= 0; j--)
                        {
                            var e = first + j;
                            acc[feature[e]] += Vector256.Create(value * (ones[j] - zero[e])) * (prefix[j] * running);
                            running *= factors[j];
                        }

                        continue;
                    }

                    var points = layout.RulePoints(vectors);
                    var weights = layout.RuleWeights(vectors);

                    // Forward: f_j at every point, and prefix[j] = w * prod_{i < j} f_i.
                    for (var v = 0; v < vectors; v++)
                    {
                        prefix[v] = Vector256.Load(weights + (v * Lanes));
                    }

                    for (var j = 0; j < depth; j++)
                    {
                        var e = first + j;
                        var one = One(e, conditionStart, condition, goesLeft);
                        ones[j] = one;
                        var z = Vector256.Create(zero[e]);
                        var slope = Vector256.Create(one - zero[e]);
                        var row = j * vectors;
                        for (var v = 0; v < vectors; v++)
                        {
                            var f = z + (slope * Vector256.Load(points + (v * Lanes)));
                            factors[row + v] = f;
                            prefix[row + vectors + v] = prefix[row + v] * f;
                        }
                    }

                    // Backward: suffix = prod_{i > j} f_i, so prefix[j] * suffix is w * prod_{i != j} f_i.
                    for (var v = 0; v < vectors; v++)
                    {
                        suffix[v] = Vector256<double>.One;
                    }

                    for (var j = depth - 1; j >= 0; j--)
                    {
                        var e = first + j;
                        var row = j * vectors;
                        var product = prefix[row] * suffix[0];
                        suffix[0] *= factors[row];
                        for (var v = 1; v < vectors; v++)
                        {
                            product += prefix[row + v] * suffix[v];
                            suffix[v] *= factors[row + v];
                        }

                        acc[feature[e]] += Vector256.Create(value * (ones[j] - zero[e])) * product;
                    }
                }
            }

            for (var b = 0; b < blocks; b++)
            {
                for (var f = 0; f < features; f++)
                {
                    phiBase[(b * width) + f] += Vector256.Sum(accumulators[(b * features) + f]);
                }
            }
        }
    }

    /// <summary>
    /// An element's one fraction: 1 when the document satisfies every split the path makes on its feature. In integer
    /// arithmetic, without a branch: whether a document agrees with a path is a coin toss, and a branch on it would
    /// mispredict half the time (that cost more than the rest of the algorithm together: 2.8 ms against 1.4 ms for one
    /// document of the 500 x 63 model).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double One(int element, int* conditionStart, int* condition, byte* goesLeft)
    {
        var agrees = 1;
        for (var c = conditionStart[element]; c < conditionStart[element + 1]; c++)
        {
            agrees &= 1 ^ goesLeft[condition[c] >> 1] ^ (condition[c] & 1);
        }

        return agrees;
    }

    private static ShapScratch Scratch(ShapLayout layout, int accumulators)
    {
        var scratch = _scratch;
        if (scratch is null || scratch.Internal < layout.MaxInternal || scratch.Elements < layout.MaxElements
            || scratch.Vectors < layout.RuleCount || scratch.AccumulatorCount < accumulators)
        {
            scratch = _scratch = new ShapScratch(
                Math.Max(layout.MaxInternal, scratch?.Internal ?? 0),
                Math.Max(layout.MaxElements, scratch?.Elements ?? 0),
                Math.Max(layout.RuleCount, scratch?.Vectors ?? 0),
                Math.Max(accumulators, scratch?.AccumulatorCount ?? 0));
        }

        return scratch;
    }

    /// <summary>Per-thread buffers on the pinned heap, so the kernel holds raw pointers into them.</summary>
    private sealed class ShapScratch
    {
        private readonly byte[] _directions;
        private readonly double[] _ones;
        private readonly Vector256<double>[] _prefix;
        private readonly Vector256<double>[] _factors;
        private readonly Vector256<double>[] _accumulators;

        public ShapScratch(int internals, int elements, int vectors, int accumulators)
        {
            (Internal, Elements, Vectors, AccumulatorCount) = (internals, elements, vectors, accumulators);
            _directions = GC.AllocateArray<byte>(Math.Max(1, internals), pinned: true);
            _ones = GC.AllocateArray<double>(Math.Max(1, elements), pinned: true);
            _prefix = GC.AllocateArray<Vector256<double>>((elements + 1) * Math.Max(1, vectors), pinned: true);
            _factors = GC.AllocateArray<Vector256<double>>(Math.Max(1, elements * vectors), pinned: true);
            _accumulators = GC.AllocateArray<Vector256<double>>(Math.Max(1, accumulators), pinned: true);
        }

        public int Internal { get; }

        public int Elements { get; }

        public int Vectors { get; }

        public int AccumulatorCount { get; }

        public byte* Directions => Pin.Of(_directions);

        public double* Ones => Pin.Of(_ones);

        public Vector256<double>* Prefix => Pin.Of(_prefix);

        public Vector256<double>* Factors => Pin.Of(_factors);

        public Vector256<double>* Accumulators => Pin.Of(_accumulators);
    }
}

/// <summary>Raw pointers to arrays on the pinned heap (a <c>fixed</c> local would be a pin the JIT keeps in memory).</summary>
internal static unsafe class Pin
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T* Of<T>(T[] pinned)
        where T : unmanaged => (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
}

/// <summary>
/// What TreeSHAP needs of a model, precomputed once: for every leaf (tree t's leaves are
/// <c>[LeafStart[t], LeafStart[t + 1])</c>, in leaf order) its value and the unique features of its path
/// (<c>[ElementStart[leaf], ElementStart[leaf + 1])</c>), each with its zero fraction and the splits that decide its one
/// fraction (<c>[ConditionStart[e], ConditionStart[e + 1])</c>, each <c>node index within the tree * 2 + 1 if the path goes left</c>).
/// </summary>
internal sealed unsafe class ShapLayout
{
    public ShapLayout(CompiledForest forest)
    {
        var leafStart = new int[forest.TreeCount + 1];
        var elementStart = new List<int>();
        var features = new List<int>();
        var zeros = new List<double>();
        var conditionStart = new List<int>();
        var conditions = new List<int>();
        var leafValues = new List<double>();
        var maxElements = 0;
        var maxInternal = 0;
        for (var t = 0; t < forest.TreeCount; t++)
        {
            leafStart[t] = leafValues.Count;
            var root = forest.Root[t];
            maxInternal = Math.Max(maxInternal, forest.LeafStart[t] - root);
            if (forest.IsLeaf(t, root))
            {
                // A constant tree explains nothing; it only adds its value to the bias.
                continue;
            }

            // Depth-first over root-to-leaf paths: each path is a list of (node, went left).
            var stack = new Stack<(int Node, (int Node, bool Left)[] Path)>();
            stack.Push((root, []));
            var byLeaf = new SortedDictionary<int, (int Node, bool Left)[]>();
            while (stack.Count > 0)
            {
                var (node, path) = stack.Pop();
                if (forest.IsLeaf(t, node))
                {
                    byLeaf[node] = path;
                    continue;
                }

                stack.Push((forest.Right[node], [.. path, (node, false)]));
                stack.Push((forest.Left[node], [.. path, (node, true)]));
            }

            foreach (var (leaf, path) in byLeaf)
            {
                leafValues.Add(forest.Value[leaf]);
                elementStart.Add(features.Count);

                // Unique features in order of first appearance, as TreeSHAP's unique path holds them; a feature split
                // on again is merged: its zero fractions multiply, its one fraction needs every split satisfied.
                var elements = new List<(int Feature, double Zero, List<int> Conditions)>();
                foreach (var (node, left) in path)
                {
                    var child = left ? forest.Left[node] : forest.Right[node];
                    var cover = forest.Cover[node];
                    var zero = cover > 0 ? forest.Cover[child] / cover : 0.5;
                    var feature = forest.NodeFeature(node);
                    var condition = ((node - root) << 1) | (left ? 1 : 0);
                    var at = elements.FindIndex(e => e.Feature == feature);
                    if (at < 0)
                    {
                        elements.Add((feature, zero, [condition]));
                    }
                    else
                    {
                        elements[at].Conditions.Add(condition);
                        elements[at] = (feature, elements[at].Zero * zero, elements[at].Conditions);
                    }
                }

                foreach (var (feature, zero, list) in elements)
                {
                    features.Add(feature);
                    zeros.Add(zero);
                    conditionStart.Add(conditions.Count);
                    conditions.AddRange(list);
                }

                maxElements = Math.Max(maxElements, elements.Count);
            }
        }

        leafStart[forest.TreeCount] = leafValues.Count;
        elementStart.Add(features.Count);
        conditionStart.Add(conditions.Count);
        LeafStart = leafStart;
        _arrays = [Pinned(elementStart), Pinned(features), Pinned(zeros), Pinned(conditionStart), Pinned(conditions), Pinned(leafValues)];
        ElementStart = Pin.Of((int[])_arrays[0]);
        Feature = Pin.Of((int[])_arrays[1]);
        Zero = Pin.Of((double[])_arrays[2]);
        ConditionStart = Pin.Of((int[])_arrays[3]);
        Condition = Pin.Of((int[])_arrays[4]);
        LeafValue = Pin.Of((double[])_arrays[5]);
        MaxElements = maxElements;
        MaxInternal = maxInternal;

        // Rules of 4, 8, 12, ... points, one after another: rule v (1-based) serves paths of up to 8 v unique features.
        RuleCount = Math.Max(1, (maxElements + 7) >> 3);
        var rules = Enumerable.Range(1, RuleCount).Select(v => GaussLegendre.OnUnitInterval(4 * v)).ToArray();
        _rulePoints = Pinned([.. rules.SelectMany(r => r.Points)]);
        _ruleWeights = Pinned([.. rules.SelectMany(r => r.Weights)]);
    }

    private readonly Array[] _arrays;
    private readonly double[] _rulePoints;
    private readonly double[] _ruleWeights;

    public int[] LeafStart { get; }

    public int* ElementStart { get; }

    public int* Feature { get; }

    public double* Zero { get; }

    public int* ConditionStart { get; }

    public int* Condition { get; }

    public double* LeafValue { get; }

    /// <summary>The most unique features on one path.</summary>
    public int MaxElements { get; }

    /// <summary>The most internal nodes in one tree.</summary>
    public int MaxInternal { get; }

    /// <summary>Quadrature rules: of 4, 8, ..., 4 * RuleCount points.</summary>
    public int RuleCount { get; }

    /// <summary>The points of the rule of 4 * <paramref name="vectors"/> points (rules are stored one after another: 4 + 8 + ... = 2 v (v - 1) before it).</summary>
    public double* RulePoints(int vectors) => Pin.Of(_rulePoints) + (2 * vectors * (vectors - 1));

    /// <summary>The weights of the rule of 4 * <paramref name="vectors"/> points.</summary>
    public double* RuleWeights(int vectors) => Pin.Of(_ruleWeights) + (2 * vectors * (vectors - 1));

    private static T[] Pinned<T>(List<T> values)
        where T : unmanaged
    {
        var array = GC.AllocateArray<T>(Math.Max(1, values.Count), pinned: true);
        values.CopyTo(array);
        return array;
    }
}

/// <summary>
/// An n-point Gauss-Legendre rule on [0, 1]: sum_q Weights[q] * p(Points[q]) = integral_0^1 p(u) du for every
/// polynomial p of degree at most 2n - 1. Nodes are the roots of the Legendre polynomial P_n found by Newton's method
/// from Tricomi's initial guesses, weights 2 / ((1 - x^2) P_n'(x)^2) (Abramowitz and Stegun 25.4.29), both mapped from
/// [-1, 1].
/// </summary>
internal sealed class GaussLegendre
{
    private GaussLegendre(double[] points, double[] weights) => (Points, Weights) = (points, weights);

    public double[] Points { get; }

    public double[] Weights { get; }

    public static GaussLegendre OnUnitInterval(int n)
    {
        var points = new double[n];
        var weights = new double[n];
        for (var i = 0; i < (n + 1) / 2; i++)
        {
            var x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            double derivative;
            for (var iteration = 0; ; iteration++)
            {
                // P_n(x) by the three-term recurrence (j + 1) P_{j+1} = (2j + 1) x P_j - j P_{j-1}.
                double p0 = 1, p1 = x;
                for (var j = 1; j < n; j++)
                {
                    (p0, p1) = (p1, (((2 * j) + 1) * x * p1 - (j * p0)) / (j + 1));
                }

                derivative = n * ((x * p1) - p0) / ((x * x) - 1);
                var step = p1 / derivative;
                x -= step;
                if (Math.Abs(step) < 1e-16 || iteration == 100)
                {
                    break;
                }
            }

            var weight = 2 / ((1 - (x * x)) * derivative * derivative);
            points[i] = (1 - x) / 2;
            points[n - 1 - i] = (1 + x) / 2;
            weights[i] = weights[n - 1 - i] = weight / 2;
        }

        return new GaussLegendre(points, weights);
    }
}
