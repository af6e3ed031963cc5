namespace Lasthope.Trees.Evaluation;

/// <summary>
/// Chooses between two compilations of one forest, the bitvector layout (trees of at most 64 leaves) and the lockstep
/// walk, by counting the work each would do on the rows the caller actually scores, then keeps the cheaper.
/// <para>
/// The two kernels pay for different things (Lucchese et al., "QuickScorer", SIGIR 2015): the bitvector kernel tests
/// every internal node of a tree for 16 documents at once, whatever the documents; the lockstep walk moves eight
/// documents down a tree together until the deepest of them reaches its leaf, so it pays for the longest path of each
/// eight. Which is cheaper depends on the rows: on the ranker's candidates, whose features send most documents to a
/// leaf within a few steps, lockstep was 1.6-1.7x faster; on dense uniform rows the bitvector kernel was 1.5x faster
/// (docs/performance.md, "Counting the work"). Timing the two on live calls picked wrong too often on a noisy machine,
/// and synthetic rows at load do not take the paths served rows take. Counting does not depend on the clock: the first
/// <see cref="SampleRows"/> rows are scored by lockstep while each group of eight is walked once more to count its
/// steps, and the bitvector cost of the same rows follows from the trees' node counts. The two unit costs are
/// measured once, on this project's reference machine, in one process on the same rows (the probe in
/// docs/performance.md); both kernels give the same scores bit for bit, so a wrong constant costs speed, never a score.
/// </para>
/// </summary>
internal sealed unsafe class KernelChoice
{
    /// <summary>Rows counted before the choice is made.</summary>
    public const int SampleRows = 256;

    /// <summary>
    /// The cost of one numerical node of the bitvector kernel for a group of 16 documents, in lockstep iterations (two
    /// steps of eight documents): 1.21 ns against 10.9 ns with 512-bit vectors, 1.33 ns with 256-bit ones, on served
    /// rows and on dense rows alike (within 3%).
    /// </summary>
    public static double NodeCost(BitvectorWidth width) => width == BitvectorWidth.Vector512 ? 0.111 : 0.122;

    /// <summary>
    /// A categorical node of the bitvector kernel tests its 16 documents one by one (a set lookup each), about as much
    /// as three lockstep iterations. An estimate from the instruction counts, not measured: no served model had one.
    /// </summary>
    public const double CategoricalNodeCost = 3.0;

    private readonly CompiledForest _bitvector;
    private readonly CompiledForest _lockstep;
    private readonly double _bitvectorCostPerGroup;
    private readonly Lock _counting = new();
    private long _lockstepIterations;
    private long _bitvectorGroups;
    private int _rows;
    private volatile CompiledForest? _settled;

    public KernelChoice(CompiledForest bitvector, CompiledForest lockstep, BitvectorWidth width)
    {
        (_bitvector, _lockstep) = (bitvector, lockstep);

        // The bitvector kernel's cost for one group of 16 documents, in lockstep iterations: the same for every group.
        // Trees the bitvector compilation walks by lockstep too cost the same in both, and are left out of both sums.
        var nodeCost = NodeCost(width);
        for (var t = 0; t < bitvector.TreeCount; t++)
        {
            if (bitvector.Kernel[t] != TreeKernel.Bitvector)
            {
                continue;
            }

            for (var node = bitvector.Root[t]; node < bitvector.LeafStart[t]; node++)
            {
                _bitvectorCostPerGroup += bitvector.IsCategorical[node] ? CategoricalNodeCost : nodeCost;
            }
        }
    }

    /// <summary>The chosen compilation, or null while rows are being counted.</summary>
    public CompiledForest? Settled => _settled;

    /// <summary>The forest for the next call: the lockstep one until the choice is made.</summary>
    public CompiledForest Next => _settled ?? _lockstep;

    /// <summary>
    /// Counts the work of a block of <paramref name="count"/> documents whose keys <paramref name="keys"/> were made
    /// for the lockstep compilation; settles once <see cref="SampleRows"/> rows are counted. A call that finds another
    /// thread counting skips its block: the sample only has to be rows the caller scores.
    /// </summary>
    public void Count(long* keys, int count)
    {
        if (_settled is not null || !_counting.TryEnter())
        {
            return;
        }

        try
        {
            if (_settled is not null)
            {
                return;
            }

            long iterations = 0;
            for (var t = 0; t < _lockstep.TreeCount; t++)
            {
                // Trees the bitvector compilation walks by lockstep too cost the same either way: left out.
                if (_bitvector.Kernel[t] == TreeKernel.Bitvector)
                {
                    iterations += LockstepIterations(_lockstep, t, keys, count);
                }
            }

            _lockstepIterations += iterations;
            _bitvectorGroups += (count + BitvectorKernels.GroupSize - 1) / BitvectorKernels.GroupSize;
            _rows += count;
            if (_rows >= SampleRows)
            {
                _settled = _bitvectorGroups * _bitvectorCostPerGroup < _lockstepIterations ? _bitvector : _lockstep;
            }
        }
        finally
        {
            _counting.Exit();
        }
    }

    /// <summary>The counted costs so far, in lockstep iterations (tests and the probe read them).</summary>
    public (double Lockstep, double Bitvector) Costs => (_lockstepIterations, _bitvectorGroups * _bitvectorCostPerGroup);

    /// <summary>
    /// The lockstep iterations tree <paramref name="tree"/> of the lockstep compilation takes for a block of
    /// <paramref name="count"/> documents whose keys are <paramref name="keys"/>: per group of eight, half the deepest
    /// path rounded up and at least one (AddTreeLockstep takes two steps per iteration). A categorical tree forced off
    /// the bitvector kernel is walked one document at a time, a branch a step: counted as an iteration a step (an
    /// estimate, like <see cref="CategoricalNodeCost"/>).
    /// </summary>
    public static long LockstepIterations(CompiledForest forest, int tree, long* keys, int count)
    {
        long iterations = 0;
        if (forest.Kernel[tree] == TreeKernel.General)
        {
            for (var d = 0; d < count; d++)
            {
                iterations += Depth(forest, tree, keys, d);
            }

            return iterations;
        }

        for (var g = 0; g < count; g += 8)
        {
            var deepest = 0;
            for (var d = g; d < Math.Min(count, g + 8); d++)
            {
                deepest = Math.Max(deepest, Depth(forest, tree, keys, d));
            }

            iterations += Math.Max(1, (deepest + 1) / 2);
        }

        return iterations;
    }

    /// <summary>The length of document <paramref name="doc"/>'s path through <paramref name="tree"/>, in internal nodes.</summary>
    public static int Depth(CompiledForest forest, int tree, long* keys, int doc)
    {
        var node = forest.Root[tree];
        var depth = 0;
        while (node < forest.LeafStart[tree])
        {
            node = ForestKernels.GoesLeft(forest, node, keys[forest.KeyIndex(forest.NodeSlot[node], doc)]) ? forest.Left[node] : forest.Right[node];
            depth++;
        }

        return depth;
    }
}
