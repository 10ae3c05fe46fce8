using System.CommandLine;
using System.Globalization;

namespace MeshActors.Cli;

/// <summary>Range checks for numeric options, so that a value out of range is a parse error naming its option rather than a failure deep inside a command.</summary>
internal static class OptionRanges
{
    /// <summary>The longest wait a timer takes (Task.Delay, CancelAfter: uint.MaxValue - 1 ms), in whole seconds.</summary>
    public const double MaxSeconds = 4294967;

    /// <summary>Seconds from 0 to <see cref="MaxSeconds"/>: a wait or an interval, where 0 means not to wait.</summary>
    public static Option<double> Seconds(this Option<double> option) => option.Checked(value =>
        // Written so that NaN fails too.
        value is >= 0 and <= MaxSeconds ? null : $"{option.Name} must be between 0 and {MaxSeconds} seconds, not {Format(value)}.");

    /// <summary>Seconds above 0 up to <see cref="MaxSeconds"/>: a timeout or a duration, where 0 would end at once.</summary>
    public static Option<double> PositiveSeconds(this Option<double> option) => option.Checked(value => PositiveSecondsError(option, value));

    /// <inheritdoc cref="PositiveSeconds(Option{double})"/>
    public static Option<double?> PositiveSeconds(this Option<double?> option) => option.Checked(value => value is { } seconds ? PositiveSecondsError(option, seconds) : null);

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/> (NaN fails).</summary>
    public static Option<double> Between(this Option<double> option, double min, double max) => option.Checked(value =>
        value >= min && value <= max ? null : $"{option.Name} must be between {Format(min)} and {Format(max)}, not {Format(value)}.");

    /// <summary>A count of 0 or more, where 0 means no limit.</summary>
    public static Option<int> NotNegative(this Option<int> option) => option.Checked(value =>
        value >= 0 ? null : $"{option.Name} must be 0 or more, not {Format(value)}.");

    private static string? PositiveSecondsError(Option option, double value) =>
        value is > 0 and <= MaxSeconds ? null : $"{option.Name} must be more than 0 and at most {MaxSeconds} seconds, not {Format(value)}.";

    /// <summary>Adds a validator that reports the error <paramref name="check"/> finds in the option's value, if any.</summary>
    private static Option<T> Checked<T>(this Option<T> option, Func<T, string?> check)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                // Validators run even for a value that does not parse (dotnet/command-line-api#2645); the parser reports that one itself.
                return;
            }
            if (check(value) is { } error)
                result.AddError(error);
        });
        return option;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
