import Foundation

/// Fixed date formats the APIs' signatures and headers use, always in the POSIX locale.
public enum DateFormats {
    /// `date` in `format` (DateFormatter patterns) in the time zone `zone`.
    public static func string(_ date: Date, _ format: String, zone: String = "UTC") -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: zone)
        formatter.dateFormat = format
        return formatter.string(from: date)
    }
}
