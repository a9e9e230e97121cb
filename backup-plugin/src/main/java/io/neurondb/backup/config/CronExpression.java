package io.neurondb.backup.config;

import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.Locale;

/**
 * A cron schedule of five fields (minute hour day-of-month month day-of-week) as crontab(5)
 * reads them: {@code *}, numbers, ranges {@code a-b}, lists {@code a,b}, steps {@code *}{@code /n}
 * and {@code a-b/n}, month and weekday names, 0 or 7 for Sunday. When both day fields are
 * restricted a day matches if either does, as in cron. Written here rather than taken from a
 * library: no cron library resolves in this build, and the grammar is small.
 */
public final class CronExpression {

    private static final String[] MONTHS = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
    private static final String[] DAYS = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

    private final String text;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    private final BitSet daysOfWeek;
    private final boolean domRestricted;
    private final boolean dowRestricted;

    private CronExpression(String text, String[] f) {
        this.text = text;
        minutes = field(f[0], "minute", 0, 59, null, 0);
        hours = field(f[1], "hour", 0, 23, null, 0);
        daysOfMonth = field(f[2], "day of month", 1, 31, null, 0);
        months = field(f[3], "month", 1, 12, MONTHS, 1);
        BitSet dow = field(f[4], "day of week", 0, 7, DAYS, 0);
        if (dow.get(7)) {
            dow.set(0);
            dow.clear(7);
        }
        daysOfWeek = dow;
        domRestricted = !f[2].startsWith("*");
        dowRestricted = !f[4].startsWith("*");
    }

    /** @throws IllegalArgumentException saying which field is wrong and how */
    public static CronExpression parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty cron expression: write five fields, e.g. \"0 2 * * *\" (daily at 02:00)");
        }
        String[] f = text.trim().split("\\s+");
        if (f.length != 5) {
            throw new IllegalArgumentException("cron expression \"" + text + "\" has " + f.length
                    + " fields; write five: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"");
        }
        return new CronExpression(text.trim(), f);
    }

    /** The first time strictly after {@code after}, to the minute, in {@code after}'s zone. */
    public ZonedDateTime next(ZonedDateTime after) {
        ZonedDateTime t = after.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        ZonedDateTime limit = t.plusYears(5);
        while (t.isBefore(limit)) {
            if (!months.get(t.getMonthValue())) {
                t = t.withDayOfMonth(1).withHour(0).withMinute(0).plusMonths(1);
                continue;
            }
            if (!dayMatches(t)) {
                t = t.withHour(0).withMinute(0).plusDays(1);
                continue;
            }
            if (!hours.get(t.getHour())) {
                t = t.withMinute(0).plusHours(1);
                continue;
            }
            if (!minutes.get(t.getMinute())) {
                t = t.plusMinutes(1);
                continue;
            }
            return t;
        }
        throw new IllegalStateException("cron expression \"" + text + "\" never fires");
    }

    private boolean dayMatches(ZonedDateTime t) {
        boolean dom = daysOfMonth.get(t.getDayOfMonth());
        boolean dow = daysOfWeek.get(t.getDayOfWeek().getValue() % 7);
        if (domRestricted && dowRestricted) {
            return dom || dow;
        }
        return dom && dow;
    }

    private static BitSet field(String spec, String name, int min, int max, String[] names, int nameBase) {
        BitSet set = new BitSet(max + 1);
        for (String part : spec.split(",", -1)) {
            if (part.isEmpty()) {
                throw bad(spec, name, min, max, "an empty list item");
            }
            int step = 1;
            String range = part;
            int slash = part.indexOf('/');
            if (slash >= 0) {
                step = number(part.substring(slash + 1), spec, name, 1, max, null, 0);
                range = part.substring(0, slash);
            }
            int lo;
            int hi;
            if (range.equals("*")) {
                lo = min;
                hi = max == 7 ? 6 : max;
            } else if (range.contains("-")) {
                String[] ab = range.split("-", -1);
                if (ab.length != 2) {
                    throw bad(spec, name, min, max, "a malformed range '" + range + "'");
                }
                lo = number(ab[0], spec, name, min, max, names, nameBase);
                hi = number(ab[1], spec, name, min, max, names, nameBase);
                if (hi < lo) {
                    throw bad(spec, name, min, max, "a backwards range '" + range + "'");
                }
            } else {
                lo = number(range, spec, name, min, max, names, nameBase);
                hi = slash >= 0 ? (max == 7 ? 6 : max) : lo;
            }
            for (int v = lo; v <= hi; v += step) {
                set.set(v);
            }
        }
        return set;
    }

    private static int number(String s, String spec, String name, int min, int max, String[] names, int nameBase) {
        if (names != null) {
            String u = s.toUpperCase(Locale.ROOT);
            for (int i = 0; i < names.length; i++) {
                if (names[i].equals(u)) {
                    return i + nameBase;
                }
            }
        }
        int v;
        try {
            v = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw bad(spec, name, min, max, "'" + s + "', which is not a number");
        }
        if (v < min || v > max) {
            throw bad(spec, name, min, max, v + ", out of range");
        }
        return v;
    }

    private static IllegalArgumentException bad(String spec, String name, int min, int max, String what) {
        return new IllegalArgumentException("cron " + name + " field \"" + spec + "\" has " + what
                + "; use *, a number " + min + "-" + max + ", a range a-b, a list a,b or a step */n");
    }

    @Override
    public String toString() {
        return text;
    }
}
