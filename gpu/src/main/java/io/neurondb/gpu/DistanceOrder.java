package io.neurondb.gpu;

/**
 * The one ordering of (distance, row) candidates used on the device and on the host:
 * smaller distance first, equal distances by lower row, NaN last. A fixed tie rule makes a
 * tiled search return the same rows whatever the tile sizes, and NaN-last keeps a NaN
 * distance (only NaN input makes one) from displacing real matches.
 * Mirrors {@code ranksBefore} in {@code kernels.cu}.
 */
final class DistanceOrder {

    private DistanceOrder() {
    }

    static boolean ranksBefore(float distanceA, int rowA, float distanceB, int rowB) {
        if (Float.isNaN(distanceA)) {
            return Float.isNaN(distanceB) && rowA < rowB;
        }
        if (Float.isNaN(distanceB)) {
            return true;
        }
        return distanceA < distanceB || (distanceA == distanceB && rowA < rowB);
    }
}
