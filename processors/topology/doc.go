// Package topology defines, once, the names of every ShopEase topic and table, their keys and
// their partition counts, and checks that topics a processor joins are co-partitioned.
package topology
