-- The channel paths of known customers, most common first (the path of each customer is
-- defined in int_customer_paths: marketing-touch channels, repeats collapsed, the last
-- var('paths_max_touches') steps, up to the conversion; '(none)' without a marketing touch).
with customer_paths as (
    select * from {{ ref('int_customer_paths') }}
),

final as (
    select
        path,
        max(path_length) as path_length,
        sum(case when is_converting then 1 else 0 end) as converting_customers,
        sum(case when is_converting then 0 else 1 end) as non_converting_customers,
        count(*) as total_customers
    from customer_paths
    group by path
)

select
    path,
    cast(path_length as {{ dbt.type_bigint() }}) as path_length,
    cast(converting_customers as {{ dbt.type_bigint() }}) as converting_customers,
    cast(non_converting_customers as {{ dbt.type_bigint() }}) as non_converting_customers,
    cast(total_customers as {{ dbt.type_bigint() }}) as total_customers,
    cast(converting_customers as {{ features_type_double() }}) / total_customers as conversion_rate,
    row_number() over (order by total_customers desc, path) as path_rank
from final
