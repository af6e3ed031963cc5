namespace Lasthope.Text;

/// <summary>
/// The CFPB complaint database's issues (the <c>Issue</c> column, 86 distinct values in the staged 2015-2020 sample)
/// mapped to the broad groups a complaint-routing team works in, the way Lasthope's telecom routing grouped chats into
/// billing, service and churn.
/// <para>
/// How the table was made: by hand, from the issue's own wording only (not from the narratives, and not tuned on any
/// result), asking which team would act on it. Every issue of the sample is listed, so an unlisted one is an issue the
/// CFPB added later (<see cref="Other"/>). The judgement calls: "Closing on a mortgage" is the completion of a purchase,
/// so it is an application, not an account closure; payoff and end-of-lease problems end a relationship, so they are
/// account closure; "Struggling to pay ..." is hardship, apart from billing errors; "Problem caused by your funds being
/// low" is overdraft and NSF fees, so billing; advertising and disclosure issues (16 narratives) are too few for a group
/// and go to service; "Problem with a company's investigation into an existing issue" appears under credit reporting
/// products, so it is a credit-reporting error.
/// </para>
/// <code>
/// group                      issues (CFPB wording)
/// credit_reporting_errors    Incorrect information on your report; Problem with a credit reporting company's investigation into
///                            an existing problem; Improper use of your report; Unable to get your credit report or credit score;
///                            Problem with fraud alerts or security freezes; Credit monitoring or identity theft protection
///                            services; Identity theft protection or other monitoring services; Problem with a company's
///                            investigation into an existing issue
/// debt_collection_conduct    Attempts to collect debt not owed; Cont'd attempts collect debt not owed; Written notification about
///                            debt; Communication tactics; Took or threatened to take negative or legal action; False statements or
///                            representation; Threatened to contact someone or share information improperly; Disclosure
///                            verification of debt; Taking/threatening an illegal action; Improper contact or sharing of info
/// billing                    Trouble during payment process; Problem with a purchase shown on your statement; Fees or interest;
///                            Problem when making payments; Problem with a lender or other company charging your account; Charged
///                            fees or interest you didn't expect (and "... I didn't expect"); Unexpected or other fees; Problem
///                            caused by your funds being low (and "Problems caused by my funds being low"); Loan payment wasn't
///                            credited to your account; Billing disputes; Excessive fees
/// hardship                   Struggling to pay mortgage; Struggling to repay your loan; Struggling to pay your loan; Struggling to
///                            pay your bill; Problems when you are unable to pay; Loan modification,collection,foreclosure
/// account_closure            Closing an account; Closing your account; Problem getting a card or closing an account; Problems at
///                            the end of the loan or lease; Problem with the payoff process at the end of the loan; Payoff process
/// applications               Applying for a mortgage or refinancing an existing mortgage; Applying for a mortgage; Closing on a
///                            mortgage; Getting a credit card; Opening an account; Getting a loan or lease; Getting the loan; Getting
///                            a loan; Getting a line of credit; Shopping for a loan or lease; Was approved for a loan, but didn't
///                            receive money; Application processing delay; Settlement process and costs
/// fraud_and_transactions     Fraud or scam; Unauthorized transactions or other transaction problem; Other transaction problem;
///                            Money was not available when promised; Problem with a purchase or transfer; Lost or stolen money
///                            order; Identity theft / Fraud / Embezzlement; Received a loan you didn't apply for; Making/receiving
///                            payments, sending money; Problem adding money
/// service                    Managing an account; Dealing with your lender or servicer; Managing the loan or lease; Other
///                            features, terms, or problems; Trouble using your card; Trouble using the card; Problem with customer
///                            service; Other service problem; Can't contact lender or servicer; Loan servicing, payments, escrow
///                            account; Account opening, closing, or management; Managing, opening, or closing your mobile wallet
///                            account; Credit limit changed; Problem with additional add-on products or services; Vehicle was
///                            damaged or destroyed the vehicle; Advertising and marketing, including promotional offers;
///                            Advertising; Confusing or missing disclosures; Confusing or misleading advertising or marketing; Other
/// </code>
/// </summary>
public static class ComplaintIssueGroups
{
    public const string CreditReporting = "credit_reporting_errors", DebtCollection = "debt_collection_conduct", Billing = "billing",
        Hardship = "hardship", AccountClosure = "account_closure", Applications = "applications", Fraud = "fraud_and_transactions",
        Service = "service", Other = "other";

    /// <summary>Every issue of the staged sample and its group (ordinal, case-sensitive: the CFPB's wording).</summary>
    public static IReadOnlyDictionary<string, string> Table { get; } = Build();

    /// <summary>The group of <paramref name="issue"/>, or <see cref="Other"/> for an issue the table does not hold.</summary>
    public static string Of(string issue) => Table.TryGetValue(issue, out var group) ? group : Other;

    private static Dictionary<string, string> Build()
    {
        var groups = new (string Group, string[] Issues)[]
        {
            (CreditReporting, [
                "Incorrect information on your report", "Problem with a credit reporting company's investigation into an existing problem",
                "Improper use of your report", "Unable to get your credit report or credit score", "Problem with fraud alerts or security freezes",
                "Credit monitoring or identity theft protection services", "Identity theft protection or other monitoring services",
                "Problem with a company's investigation into an existing issue"]),
            (DebtCollection, [
                "Attempts to collect debt not owed", "Cont'd attempts collect debt not owed", "Written notification about debt", "Communication tactics",
                "Took or threatened to take negative or legal action", "False statements or representation",
                "Threatened to contact someone or share information improperly", "Disclosure verification of debt", "Taking/threatening an illegal action",
                "Improper contact or sharing of info"]),
            (Billing, [
                "Trouble during payment process", "Problem with a purchase shown on your statement", "Fees or interest", "Problem when making payments",
                "Problem with a lender or other company charging your account", "Charged fees or interest you didn't expect",
                "Charged fees or interest I didn't expect", "Unexpected or other fees", "Problem caused by your funds being low",
                "Problems caused by my funds being low", "Loan payment wasn't credited to your account", "Billing disputes", "Excessive fees"]),
            (Hardship, [
                "Struggling to pay mortgage", "Struggling to repay your loan", "Struggling to pay your loan", "Struggling to pay your bill",
                "Problems when you are unable to pay", "Loan modification,collection,foreclosure"]),
            (AccountClosure, [
                "Closing an account", "Closing your account", "Problem getting a card or closing an account", "Problems at the end of the loan or lease",
                "Problem with the payoff process at the end of the loan", "Payoff process"]),
            (Applications, [
                "Applying for a mortgage or refinancing an existing mortgage", "Applying for a mortgage", "Closing on a mortgage", "Getting a credit card",
                "Opening an account", "Getting a loan or lease", "Getting the loan", "Getting a loan", "Getting a line of credit", "Shopping for a loan or lease",
                "Was approved for a loan, but didn't receive money", "Application processing delay", "Settlement process and costs"]),
            (Fraud, [
                "Fraud or scam", "Unauthorized transactions or other transaction problem", "Other transaction problem", "Money was not available when promised",
                "Problem with a purchase or transfer", "Lost or stolen money order", "Identity theft / Fraud / Embezzlement",
                "Received a loan you didn't apply for", "Making/receiving payments, sending money", "Problem adding money"]),
            (Service, [
                "Managing an account", "Dealing with your lender or servicer", "Managing the loan or lease", "Other features, terms, or problems",
                "Trouble using your card", "Trouble using the card", "Problem with customer service", "Other service problem",
                "Can't contact lender or servicer", "Loan servicing, payments, escrow account", "Account opening, closing, or management",
                "Managing, opening, or closing your mobile wallet account", "Credit limit changed", "Problem with additional add-on products or services",
                "Vehicle was damaged or destroyed the vehicle", "Advertising and marketing, including promotional offers", "Advertising",
                "Confusing or missing disclosures", "Confusing or misleading advertising or marketing", "Other"]),
        };
        var table = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (group, issues) in groups)
        {
            foreach (var issue in issues)
            {
                table.Add(issue, group);
            }
        }

        return table;
    }
}
